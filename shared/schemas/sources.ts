import { z } from 'zod';
import { shortText } from './common.js';

/** Longest text a `text` source may hold (characters). */
export const MAX_TEXT_SOURCE_CHARS = 500_000;

/** Most pages one sitemap or same-site crawl may fetch. */
export const MAX_CRAWL_PAGES = 500;

/** The kinds of knowledge a bot can learn from. */
export const sourceTypeSchema = z.enum(['text', 'url', 'file']);

/** Where a source is in its processing: written, being processed, searchable, or given up on. */
export const sourceStatusSchema = z.enum(['queued', 'processing', 'ready', 'failed']);

/** How a `url` source is read: the one page, the pages a sitemap lists, or links followed within the site. */
/** The steps of processing a source, shown while its status is `processing`. */
export const SOURCE_STAGES = ['fetching', 'chunking', 'embedding'] as const;

export const crawlModeSchema = z.enum(['page', 'sitemap', 'site']);

const httpUrlSchema = z
  .string()
  .trim()
  .max(2_000)
  .url({ message: 'must be a URL' })
  .refine((value) => /^https?:\/\//i.test(value), { message: 'must start with http:// or https://' });

const textContentSchema = z.string().trim().min(1, { message: 'must not be empty' }).max(MAX_TEXT_SOURCE_CHARS);

/** Crawl settings of a `url` source. */
export const crawlSchema = z.strictObject({
  mode: crawlModeSchema.default('page'),
  maxPages: z.number().int().min(1).max(MAX_CRAWL_PAGES).default(25),
});

/** Body of `POST /api/v1/chatbots/:id/sources` for a text source. */
export const createTextSourceSchema = z.strictObject({
  type: z.literal('text'),
  title: shortText(200),
  content: textContentSchema,
});

/** Body of `POST /api/v1/chatbots/:id/sources` for a web page, sitemap or site crawl. */
export const createUrlSourceSchema = z.strictObject({
  type: z.literal('url'),
  url: httpUrlSchema,
  title: shortText(200).optional(),
  crawl: crawlSchema.default({ mode: 'page', maxPages: 25 }),
});

/** The form fields of a multipart upload (`file` holds the document). */
export const createFileSourceSchema = z.strictObject({
  type: z.literal('file'),
  title: shortText(200).optional(),
});

/**
 * Body of `POST /api/v1/chatbots/:id/sources`: JSON for `text` and `url`;
 * a `multipart/form-data` upload (field `file`, optional `title`) for files.
 */
export const createSourceSchema = z.discriminatedUnion('type', [
  createTextSourceSchema,
  createUrlSourceSchema,
  createFileSourceSchema,
]);

/** Most sources one `POST /api/v1/chatbots/:id/sources/batch` may add. */
export const MAX_BATCH_SOURCES = 100;

/**
 * Body of `POST /api/v1/chatbots/:id/sources/batch`: text and URL sources, each as the single create takes
 * it (files are uploaded one at a time). All or nothing: one invalid item refuses the whole request, and
 * each failing field is named by its path (`sources.3.content`).
 */
export const createSourcesBatchSchema = z.strictObject({
  sources: z
    .array(z.discriminatedUnion('type', [createTextSourceSchema, createUrlSourceSchema]))
    .min(1)
    .max(MAX_BATCH_SOURCES),
});

/** Body of `PATCH /api/v1/sources/:id`: a new title, or new content (text) / address (url), which reprocesses it. */
export const updateSourceSchema = z.strictObject({
  title: shortText(200).optional(),
  content: textContentSchema.optional(),
  url: httpUrlSchema.optional(),
  crawl: crawlSchema.optional(),
});

/** Filters of `GET /api/v1/chatbots/:id/sources`. */
export const listSourcesQuerySchema = z.object({
  status: sourceStatusSchema.optional(),
  type: sourceTypeSchema.optional(),
});

/** A source as the API returns it. */
export const sourceSchema = z.object({
  id: z.string(),
  chatbotId: z.string(),
  type: sourceTypeSchema,
  title: z.string(),
  status: sourceStatusSchema,
  /** Why processing failed, when `status` is `failed`. */
  failureReason: z.string().nullable(),
  /** The step a `processing` source is at (null otherwise): fetching (or reading a stored text or file), chunking, embedding. */
  stage: z.enum(SOURCE_STAGES).nullable(),
  url: z.string().nullable(),
  crawl: crawlSchema.nullable(),
  /** The address the page was read from after redirects. */
  finalUrl: z.string().nullable(),
  lastFetchedAt: z.string().nullable(),
  file: z.object({ name: z.string(), mimeType: z.string(), size: z.number().int() }).nullable(),
  counts: z.object({ characters: z.number().int(), chunks: z.number().int(), pages: z.number().int() }),
  attempts: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  readyAt: z.string().nullable(),
});

/** One indexed passage of a source, as `GET /api/v1/sources/:id/chunks` shows it. */
export const sourceChunkSchema = z.object({
  id: z.string(),
  /** Order inside the source, from 0. */
  position: z.number().int(),
  /** The document's title (a crawled page's own title). */
  title: z.string(),
  /** Heading path inside the document, e.g. "Billing › Refunds"; empty before the first heading. */
  heading: z.string(),
  url: z.string().nullable(),
  text: z.string(),
  characters: z.number().int(),
  tokens: z.number().int(),
  embedded: z.boolean(),
});

/** One address a crawl or sitemap met, as `GET /api/v1/sources/:id/pages` shows it. */
export const sourcePageSchema = z.object({
  url: z.string(),
  status: z.enum(['taken', 'skipped']),
  /** Why a page was skipped (fetch error, not a page, over maxPages…); null when taken. */
  reason: z.string().nullable(),
});

/** Body of `POST /api/v1/chatbots/:id/retrieval-preview`: a question to look up without asking the model. */
export const retrievalPreviewRequestSchema = z.strictObject({
  query: z.string().trim().min(1).max(2_000),
  limit: z.number().int().min(1).max(20).default(5),
});

/** The passages retrieval finds for a question, best first, and the confidence the chat would see. */
export const retrievalPreviewSchema = z.object({
  confidence: z.number(),
  passages: z.array(
    z.object({
      chunkId: z.string(),
      sourceId: z.string(),
      title: z.string(),
      url: z.string().nullable(),
      excerpt: z.string(),
      text: z.string(),
      score: z.number(),
    }),
  ),
});

export type RetrievalPreviewDto = z.infer<typeof retrievalPreviewSchema>;
export type SourceChunkDto = z.infer<typeof sourceChunkSchema>;
export type SourcePageDto = z.infer<typeof sourcePageSchema>;
export type SourceStage = (typeof SOURCE_STAGES)[number];
export type SourceType = z.infer<typeof sourceTypeSchema>;
export type SourceStatus = z.infer<typeof sourceStatusSchema>;
export type CrawlSettings = z.infer<typeof crawlSchema>;
export type CreateSourceInput = z.infer<typeof createSourceSchema>;
export type CreateSourcesBatchInput = z.infer<typeof createSourcesBatchSchema>;
export type UpdateSourceInput = z.infer<typeof updateSourceSchema>;
export type SourceDto = z.infer<typeof sourceSchema>;
