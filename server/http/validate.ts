import type { ZodType, z } from 'zod';
import type { FieldIssue } from '../../shared/errors.js';
import { AppError } from './app-error.js';

type Part = 'body' | 'query' | 'params' | 'payload';

/** Parses one part of a request with a shared zod schema; failures become a 422 listing every field. */
export function parse<S extends ZodType>(schema: S, input: unknown, part: Part = 'body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const pathOf = (path: PropertyKey[]) => (path.length > 0 ? path.map(String).join('.') : part);
  // An unknown field is reported at its own path, one entry per key, like every other failing field.
  const fields: FieldIssue[] = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: pathOf([...issue.path, key]), message: `"${key}" is not a known field` }))
      : [{ path: pathOf(issue.path), message: issue.message }],
  );
  const summary = fields
    .slice(0, 3)
    .map((f) => `${f.path}: ${f.message}`)
    .join('; ');
  return failValidation(`Invalid ${part}: ${summary}`, fields);
}

function failValidation(message: string, fields: FieldIssue[]): never {
  throw new AppError('ValidationError', { message, details: { fields } });
}

/**
 * Finds the first key that could act as a MongoDB operator or path (`$gt`, `a.b`)
 * anywhere in a JSON value, so such input is refused before it can reach a query.
 */
export function findOperatorKey(value: unknown, depth = 0): string | null {
  if (depth > 32 || value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findOperatorKey(item, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('$') || key.includes('.')) return key;
    const found = findOperatorKey(child, depth + 1);
    if (found) return found;
  }
  return null;
}
