import { z } from 'zod';

/** A 24-hex-character resource id. Patterns carry no flags: the OpenAPI document copies them as ECMA-262 patterns. */
export const objectIdSchema = z.string().regex(/^[0-9a-fA-F]{24}$/, { message: 'must be a 24-character hex id' });

/** A resource id, or a slug where the route allows one. */
export const idOrSlugSchema = z
  .string()
  .min(1)
  .max(80)
  .regex(/^[a-zA-Z0-9-]+$/, { message: 'must be an id or a slug' });

const perPageSchema = z.coerce
  .number()
  .int()
  .min(1, { message: 'must be at least 1' })
  .max(100, { message: 'must be at most 100' });

/**
 * `page` (from 1) and `perPage` (1..100, default 20) on every list. `per_page` is accepted as the
 * same: the API router maps it onto `perPage` before parsing (and refuses both with different
 * values), so it is not a parameter of its own in the OpenAPI document, which cannot say "one or
 * the other".
 */
export const paginationQuerySchema = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  perPage: perPageSchema.default(20).meta({ description: 'Items per page (1-100); also accepted as `per_page`' }),
});

/** A short free-text string with a hard maximum. */
export const shortText = (max = 200) => z.string().trim().min(1).max(max);

/** ISO 8601 date (`2026-01-31`) or date-time, with or without an offset. */
export const ISO_8601 =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[Tt ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?)?$/;

/**
 * Why the calendar date an ISO 8601 string starts with does not exist (`2026-02-30`), or null when it does.
 * `ISO_8601` allows any day up to 31, and `new Date()` rolls a day past the month's end into the next month.
 */
export function missingCalendarDay(value: string): string | null {
  // Strings that are not ISO 8601 at all are refused (and named so) by the pattern.
  if (!ISO_8601.test(value)) return null;
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day <= daysInMonth) return null;
  return `is not a real calendar date: ${value.slice(0, 7)} has ${daysInMonth} days`;
}

/**
 * An ISO 8601 date or date-time in a query (`from`, `to`). Only that form: `new Date()` alone
 * would also take "0.5" or "1" as some date, and "2026-02-30" as March 2nd.
 */
export const dateQuerySchema = z
  .string()
  .max(40)
  .regex(ISO_8601, { message: 'must be an ISO 8601 date, e.g. 2026-01-31 or 2026-01-31T12:00:00Z' })
  .superRefine((value, ctx) => {
    const problem = missingCalendarDay(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((value) => new Date(value))
  .refine((date) => !Number.isNaN(date.getTime()), { message: 'must be a real calendar date' });

/** Free-form metadata a client attaches: flat, small, with safe keys. */
export const metadataSchema = z
  .record(
    z
      .string()
      .max(64)
      .regex(/^[A-Za-z0-9_-]+$/, { message: 'metadata keys are letters, digits, _ and -' }),
    z.union([z.string().max(500), z.number(), z.boolean(), z.null()]),
  )
  .refine((value) => Object.keys(value).length <= 20, { message: 'at most 20 metadata keys' });

/** Wraps a data schema in the success envelope, for documentation. */
export const envelopeOf = <T extends z.ZodType>(data: T) =>
  z.object({ success: z.literal(true), data, error: z.null() });

/** Wraps an item schema in a paginated success envelope, for documentation. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    success: z.literal(true),
    data: z.array(item),
    error: z.null(),
    meta: z.object({ page: z.number().int(), perPage: z.number().int(), total: z.number().int() }),
  });

/** The error envelope, for documentation. */
export const errorEnvelopeSchema = z.object({
  success: z.literal(false),
  data: z.null(),
  error: z.object({ name: z.string(), message: z.string(), details: z.unknown() }),
});
