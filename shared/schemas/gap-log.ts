import { z } from 'zod';
import { paginationQuerySchema, shortText } from './common.js';

/** One question of a bot's gap log: asked by visitors, answered with low confidence or not at all. */
export const gapSchema = z.object({
  id: z.string(),
  /** The latest wording visitors used; repeats with the same content words are counted together. */
  question: z.string(),
  count: z.number().int(),
  lastConfidence: z.number(),
  firstAskedAt: z.string(),
  lastAskedAt: z.string(),
  /** `resolved` once the owner marked it or answered it; asked again unanswered, it opens again. */
  status: z.enum(['open', 'resolved']),
  resolvedAt: z.string().nullable(),
  /** The text source created by answering it, when it was answered that way. */
  sourceId: z.string().nullable(),
});

export type GapDto = z.infer<typeof gapSchema>;

/** Query of `GET /api/v1/chatbots/:id/unanswered`. */
export const listGapsQuerySchema = paginationQuerySchema.extend({
  status: z.enum(['open', 'resolved', 'all']).default('open'),
});

/** Body of `POST /api/v1/chatbots/:id/unanswered/:gapId/answer`: the answer becomes a text source. */
export const answerGapSchema = z.strictObject({
  answer: z.string().trim().min(1, { message: 'must not be empty' }).max(20_000),
  /** The new source's title; the question when omitted. */
  title: shortText(200).optional(),
});
