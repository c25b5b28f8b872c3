import type { ZodType, z } from 'zod';
import type { FieldIssue } from '../../shared/errors.js';
import { AppError } from './app-error.js';

/** Which part of the input failed: named in the message so the caller knows where to look. */
export type InputPart = 'body' | 'query' | 'params' | 'payload';

const NOT_A_KNOWN_FIELD = ' is not a known field';

/** True for the issue of a field the schema does not have (dialects with their own error codes tell it apart). */
export function isUnknownFieldIssue(issue: FieldIssue): boolean {
  return issue.message.endsWith(NOT_A_KNOWN_FIELD);
}

/** Parses one part of a request with a shared zod schema; failures become a 422 listing every field. */
export function parse<S extends ZodType>(schema: S, input: unknown, part: InputPart = 'body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const pathOf = (path: PropertyKey[]) => (path.length > 0 ? path.map(String).join('.') : part);
  // An unknown field is reported at its own path, one entry per key, like every other failing field.
  const fields: FieldIssue[] = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: pathOf([...issue.path, key]), message: `"${key}"${NOT_A_KNOWN_FIELD}` }))
      : [{ path: pathOf(issue.path), message: issue.message }],
  );
  const summary = fields
    .slice(0, 3)
    .map((f) => `${f.path}: ${f.message}`)
    .join('; ');
  return failValidation(`Invalid ${part}: ${summary}`, fields);
}

/** Throws the 422 every invalid input answers, listing each failing field. */
export function failValidation(message: string, fields: FieldIssue[]): never {
  throw new AppError('ValidationError', { message, details: { fields } });
}
