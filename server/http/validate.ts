import type { ZodType, z } from 'zod';
import { failValidation, parse } from '../errors/parse.js';

/**
 * Parses a query string strictly: a parameter the route does not declare (a typo, or a bracket
 * form like `chatbotId[$ne]=x` that a lenient parser would turn into an operator) is refused
 * naming it, rather than dropped, which would silently widen a list. Routes without a query
 * schema take no parameters at all.
 */
export function parseQuery<S extends ZodType>(schema: S | undefined, input: Record<string, unknown>): z.output<S> {
  return queryParser(schema)(input);
}

/**
 * {@link parseQuery} for one schema, with the keys it declares worked out once (a route's parser is made
 * when the route is mounted, not on each request).
 */
export function queryParser<S extends ZodType>(schema: S | undefined): (input: Record<string, unknown>) => z.output<S> {
  const known = schema ? knownKeys(schema) : new Set<string>();
  const knownList = known ? [...known].join(', ') : '';
  return (input) => {
    if (known !== null) {
      let unknown: string[] | null = null;
      for (const key in input) {
        if (Object.hasOwn(input, key) && !known.has(key)) (unknown ??= []).push(key);
      }
      if (unknown) {
        const fields = unknown.map((key) => ({
          path: key.slice(0, 100),
          message:
            known.size > 0
              ? `"${key.slice(0, 100)}" is not a known parameter (known: ${knownList})`
              : `"${key.slice(0, 100)}" is not a known parameter: this route takes none`,
        }));
        return failValidation(
          `Invalid query: ${fields
            .slice(0, 3)
            .map((f) => f.message)
            .join('; ')}`,
          fields,
        );
      }
    }
    return schema ? parse(schema, input, 'query') : (undefined as z.output<S>);
  };
}

/** The keys an object schema declares, looking through wrappers and pipes; null when it accepts any key. */
function knownKeys(schema: ZodType, keys = new Set<string>()): Set<string> | null {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  const walk = (inner: unknown) => knownKeys(inner as ZodType, keys) !== null;
  switch (def.type) {
    case 'object': {
      const catchall = def.catchall as ZodType | undefined;
      if (catchall && (catchall as unknown as { _zod: { def: { type: string } } })._zod.def.type !== 'never')
        return null;
      for (const key of Object.keys(def.shape as object)) keys.add(key);
      return keys;
    }
    case 'pipe':
      return walk(def.in) && walk(def.out) ? keys : null;
    case 'union':
      return (def.options as unknown[]).every(walk) ? keys : null;
    case 'intersection':
      return walk(def.left) && walk(def.right) ? keys : null;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return walk(def.innerType) ? keys : null;
    default:
      return keys;
  }
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
