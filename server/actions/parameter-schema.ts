import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);

const compiled = new Map<string, ValidateFunction>();
const MAX_CACHED = 500;

/** A schema problem or a failing argument, as `{ path, message }` for the error envelope. */
export interface SchemaProblem {
  path: string;
  message: string;
}

/** Checks that an action's `parameters` is a JSON Schema of an object; returns its problems (none when fine). */
export function checkParameterSchema(schema: Record<string, unknown>): SchemaProblem[] {
  if (schema.type !== 'object')
    return [{ path: 'parameters.type', message: 'must be "object" (tool arguments are a JSON object)' }];
  if (!ajv.validateSchema(schema)) {
    return (ajv.errors ?? []).map((e) => ({
      path: `parameters${e.instancePath.replace(/\//g, '.')}`,
      message: e.message ?? 'invalid',
    }));
  }
  try {
    ajv.compile(schema);
  } catch (error) {
    return [{ path: 'parameters', message: error instanceof Error ? error.message : 'cannot be compiled' }];
  }
  return [];
}

/** The property names a parameter schema declares (what `{params.x}` may name). */
export function declaredProperties(schema: Record<string, unknown>): Set<string> {
  const properties = schema.properties;
  return new Set(properties && typeof properties === 'object' ? Object.keys(properties) : []);
}

/** Validates call arguments against the schema (compiled once per schema text). */
export function validateArguments(schema: Record<string, unknown>, args: unknown): SchemaProblem[] {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    if (compiled.size >= MAX_CACHED) compiled.clear();
    compiled.set(key, validate);
  }
  if (validate(args)) return [];
  return (validate.errors ?? []).map((e) => ({
    path: `parameters${e.instancePath.replace(/\//g, '.')}`,
    message: e.message ?? 'invalid',
  }));
}
