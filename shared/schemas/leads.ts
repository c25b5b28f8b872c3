import { z } from 'zod';
import { dateQuerySchema, idOrSlugSchema, objectIdSchema, paginationQuerySchema } from './common.js';
import { conversationDetailSchema } from './conversations.js';

/** A lead form's answers, by the field keys the owner configured. */
export const leadFieldValuesSchema = z
  .record(
    z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, { message: 'field keys are lowercase letters, digits and _' }),
    z.string().max(1_000),
  )
  .refine((values) => Object.keys(values).length <= 20, { message: 'at most 20 fields' })
  // The API document states the key rule and the count, which the generator does not derive from a record.
  .meta({ propertyNames: { pattern: '^[a-z][a-z0-9_]{0,39}$' }, maxProperties: 20 });

/** Payload of the widget's `lead:submit` socket event. */
export const leadSubmitPayloadSchema = z.strictObject({
  fields: leadFieldValuesSchema,
  /** The consent checkbox; required to be `true` when the owner set a consent text. */
  consent: z.boolean().optional(),
  /** The conversation to link; defaults to the visitor's latest one. */
  conversationId: objectIdSchema.nullable().optional(),
  /** Page and referrer are kept only when they are http(s) URLs. */
  pageUrl: z.string().max(2_000).optional(),
  referrer: z.string().max(2_000).optional(),
  locale: z
    .string()
    .max(35)
    .regex(/^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/, { message: 'must be a locale like en or pt-BR' })
    .optional(),
});

export type LeadSubmitPayload = z.infer<typeof leadSubmitPayloadSchema>;

/** Body of the public `POST /api/v1/widget/leads`: the socket payload plus who is asking. */
export const widgetLeadRequestSchema = leadSubmitPayloadSchema.extend({
  /** The bot's id or slug. */
  bot: idOrSlugSchema,
  /** The token the widget got in its socket `session` event. */
  visitorToken: z.string().min(1).max(300),
});

/** What a lead submission answers. */
export const leadSubmittedSchema = z.object({ leadId: z.string() });

/** A lead as the API returns it. */
export const leadSchema = z.object({
  id: z.string(),
  chatbotId: z.string(),
  email: z.string().nullable(),
  name: z.string().nullable(),
  phone: z.string().nullable(),
  company: z.string().nullable(),
  /** Answers to the owner's custom text fields, by field key. */
  custom: z.record(z.string(), z.string()),
  consent: z.object({ given: z.boolean(), text: z.string().nullable(), at: z.string().nullable() }),
  pageUrl: z.string().nullable(),
  referrer: z.string().nullable(),
  userAgent: z.string().nullable(),
  locale: z.string().nullable(),
  visitorId: z.string().nullable(),
  /** Another visitor gave this email after `duplicateOf` was left; their answers are kept here. */
  duplicateOf: z.string().nullable(),
  conversationIds: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** The latest conversation of a lead, in lists: enough to judge it, and where to read it. */
export const leadConversationLinkSchema = z.object({
  id: z.string(),
  /** API path of the full conversation. */
  url: z.string(),
  messageCount: z.number().int(),
  lastMessage: z.object({ preview: z.string(), at: z.string() }).nullable(),
  createdAt: z.string(),
});

export const leadListItemSchema = leadSchema.extend({ conversation: leadConversationLinkSchema.nullable() });

/** One lead with the transcripts of its conversations (newest first). */
export const leadDetailSchema = leadSchema.extend({ conversations: z.array(conversationDetailSchema) });

/** Filters of `GET /api/v1/leads/export.csv`. */
export const leadFiltersQuerySchema = z.object({
  chatbotId: idOrSlugSchema.optional(),
  from: dateQuerySchema.optional(),
  to: dateQuerySchema.optional(),
  /** Case-insensitive text in the name, email or company. */
  q: z.string().trim().min(1).max(200).optional(),
});

/** Query of `GET /api/v1/leads`. */
export const listLeadsQuerySchema = paginationQuerySchema.extend(leadFiltersQuerySchema.shape);

export type LeadDto = z.infer<typeof leadSchema>;
export type LeadListItem = z.infer<typeof leadListItemSchema>;
export type LeadDetail = z.infer<typeof leadDetailSchema>;
