import { z } from 'zod';
import { idOrSlugSchema, ISO_8601, missingCalendarDay } from './common.js';

/** How the time series is cut: calendar days, ISO weeks (from Monday) or calendar months, in `timezone`. */
export const ANALYTICS_GRANULARITIES = ['day', 'week', 'month'] as const;

const instantOrDate = (edge: string) =>
  z
    .string()
    .max(40)
    .regex(ISO_8601, { message: 'must be an ISO 8601 date, e.g. 2026-01-31 or 2026-01-31T12:00:00Z' })
    .superRefine((value, ctx) => {
      const problem = missingCalendarDay(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({
      description: `${edge}. A date alone means that local day in \`timezone\`${
        edge.startsWith('End') ? ' (included)' : ''
      }; a date-time without an offset is a local time in \`timezone\`.`,
    });

/** Query of `GET /api/v1/analytics`. */
export const analyticsQuerySchema = z.object({
  chatbotId: idOrSlugSchema
    .optional()
    .meta({ description: 'One chatbot (id or slug); the whole organization when omitted' }),
  from: instantOrDate('Start of the period').optional(),
  to: instantOrDate('End of the period').optional(),
  granularity: z.enum(ANALYTICS_GRANULARITIES).default('day'),
  timezone: z
    .string()
    .max(64)
    .refine(isIanaTimeZone, { message: 'must be an IANA time zone, e.g. UTC, Europe/Paris or Asia/Kolkata' })
    .default('UTC')
    .meta({ description: 'IANA time zone the days, weeks and months are cut in, e.g. Europe/Paris' }),
  top: z.coerce
    .number()
    .int()
    .min(1, { message: 'must be at least 1' })
    .max(50, { message: 'must be at most 50' })
    .default(10)
    .meta({ description: 'Length of each top list (1-50)' }),
});

function isIanaTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    // A RangeError: the runtime knows no zone of that name.
    return false;
  }
}

const shareSchema = z.number().min(0).max(1).nullable();

const channelMetricsSchema = z.object({
  conversations: z.number().int().describe('Conversations started'),
  visitorMessages: z.number().int().describe('Messages sent by visitors or API users'),
  answers: z.number().int().describe('Answers completed'),
  uniqueVisitors: z
    .number()
    .int()
    .describe('Distinct end users who sent a message: widget visitor, API session, else the conversation'),
  answered: z.number().int().describe('Answers with confidence at or above `lowConfidenceThreshold`'),
  lowConfidence: z.number().int().describe('Answers that cited sources but scored below the threshold'),
  unanswered: z.number().int().describe('Answers for which the knowledge had no passage at all'),
  answeredShare: shareSchema,
  lowConfidenceShare: shareSchema,
  unansweredShare: shareSchema,
  feedback: z.object({ up: z.number().int(), down: z.number().int() }),
  tokens: z.object({ prompt: z.number().int(), completion: z.number().int(), total: z.number().int() }),
  modelFailures: z.number().int().describe('Answers that failed (not cancelled by the client, not interrupted)'),
  firstTokenMs: z.object({
    p50: z.number().nullable(),
    p95: z.number().nullable(),
    samples: z.number().int(),
  }),
});

const metricsSchema = channelMetricsSchema.extend({
  leads: z.number().int().describe('Leads captured'),
  byChannel: z.record(z.string(), channelMetricsSchema).describe('The same figures per door: `widget`, `api`'),
});

const questionCountSchema = z.object({ question: z.string(), normalized: z.string(), count: z.number().int() });

/** What `GET /api/v1/analytics` answers. */
export const analyticsReportSchema = z.object({
  chatbotId: z.string().nullable(),
  from: z.string().describe('Start of the period covered (inclusive), on a quarter hour'),
  to: z.string().describe('End of the period covered (exclusive), on a quarter hour'),
  timezone: z.string(),
  granularity: z.enum(ANALYTICS_GRANULARITIES),
  lowConfidenceThreshold: z.number(),
  totals: metricsSchema,
  series: z.array(metricsSchema.extend({ start: z.string(), end: z.string() })),
  top: z.object({
    questions: z.array(questionCountSchema).describe('Most asked questions, by normalized text'),
    unanswered: z.array(questionCountSchema).describe('Most asked questions whose answer went to the gap log'),
    sources: z.array(
      z.object({ sourceId: z.string(), title: z.string(), url: z.string().nullable(), count: z.number().int() }),
    ),
  }),
});

export type AnalyticsQuery = z.output<typeof analyticsQuerySchema>;
export type AnalyticsReport = z.infer<typeof analyticsReportSchema>;
export type ChannelMetrics = z.infer<typeof channelMetricsSchema>;
export type AnalyticsMetrics = z.infer<typeof metricsSchema>;
