import { PLACEHOLDER, type ActionRequest } from '../../shared/schemas/actions.js';
import type { EndUser } from '../chat/chat.types.js';

/** A template problem found when an action is saved: where, and what to fix. */
export interface TemplateProblem {
  path: string;
  message: string;
}

/** What a template may read: the call's arguments and the verified visitor. */
export interface TemplateValues {
  params: Record<string, unknown>;
  user: EndUser | null;
}

/** A value a template could not fill safely (the call is refused, never sent half-filled). */
export class TemplateValueError extends Error {
  override name = 'TemplateValueError';
}

const USER_FIELDS = new Set(['sub', 'email', 'name']);
const SENTINEL = 'wisp-placeholder';

function placeholdersIn(text: string): Array<{ scope: string; key: string }> {
  return [...text.matchAll(PLACEHOLDER)].map((m) => ({ scope: m[1]!, key: m[2]! }));
}

function* stringsOf(value: unknown, path: string): Generator<{ path: string; text: string }> {
  if (typeof value === 'string') yield { path, text: value };
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* stringsOf(item, `${path}.${i}`);
  else if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) yield* stringsOf(item, `${path}.${key}`);
}

/**
 * Checks a request template when it is saved: the URL's scheme, host and port are literal (placeholders
 * only in path segments, whole segments or parts of one), headers carry none, and every placeholder names a
 * declared parameter or a visitor field.
 */
export function checkRequestTemplate(request: ActionRequest, declared: Set<string>): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const probe = request.url.replace(PLACEHOLDER, SENTINEL);
  let url: URL;
  try {
    url = new URL(probe);
  } catch {
    return [{ path: 'request.url', message: 'must be an absolute http(s) URL' }];
  }
  if (url.hostname.includes(SENTINEL) || url.port.includes(SENTINEL) || url.username || url.password)
    problems.push({ path: 'request.url', message: 'the host is fixed: placeholders may fill path segments only' });
  if (url.search || url.hash)
    problems.push({ path: 'request.url', message: 'put query parameters in request.query, not in the URL' });
  const templated: Array<{ path: string; text: string }> = [
    { path: 'request.url', text: request.url },
    ...Object.entries(request.query).map(([key, text]) => ({ path: `request.query.${key}`, text })),
    ...stringsOf(request.body, 'request.body'),
  ];
  for (const [name, value] of Object.entries(request.headers)) {
    if (placeholdersIn(value).length > 0 || placeholdersIn(name).length > 0)
      problems.push({ path: `request.headers.${name}`, message: 'headers are fixed: placeholders are not allowed' });
  }
  for (const { path, text } of templated) {
    for (const { scope, key } of placeholdersIn(text)) {
      if (scope === 'params' && !declared.has(key))
        problems.push({ path, message: `{params.${key}} is not a property of the parameters schema` });
      if (scope === 'user' && !USER_FIELDS.has(key))
        problems.push({ path, message: `{user.${key}}: only user.sub, user.email and user.name exist` });
    }
  }
  return problems;
}

/** Whether any template of the request reads the visitor (then the call needs an identified visitor). */
export function usesUser(request: ActionRequest): boolean {
  const all = [request.url, ...Object.values(request.query), ...[...stringsOf(request.body, '')].map((s) => s.text)];
  return all.some((text) => placeholdersIn(text).some((p) => p.scope === 'user'));
}

function lookup(values: TemplateValues, scope: string, key: string): unknown {
  if (scope === 'user') {
    if (!values.user) throw new TemplateValueError('this action needs an identified visitor (a userToken)');
    return values.user[key as keyof EndUser];
  }
  return values.params[key];
}

function asText(value: unknown, placeholder: string): string {
  if (value === undefined || value === null) throw new TemplateValueError(`${placeholder} has no value`);
  if (typeof value === 'object') throw new TemplateValueError(`${placeholder} must be a string or a number`);
  return String(value);
}

function fill(text: string, values: TemplateValues, encode: (raw: string) => string): string {
  return text.replace(PLACEHOLDER, (whole, scope: string, key: string) =>
    encode(asText(lookup(values, scope, key), whole)),
  );
}

/** Encodes one path value so it stays inside its segment: no `/`, `?`, `#`, and never a `.`/`..` segment. */
function pathValue(raw: string): string {
  if (raw === '' || raw === '.' || raw === '..')
    throw new TemplateValueError(`"${raw.slice(0, 20)}" cannot be a path segment`);
  return encodeURIComponent(raw);
}

function fillBody(value: unknown, values: TemplateValues): unknown {
  if (typeof value === 'string') {
    const whole = /^\{(params|user)\.([A-Za-z_][A-Za-z0-9_]{0,63})\}$/.exec(value);
    // A lone placeholder keeps the value's JSON type (a number stays a number).
    if (whole) return lookup(values, whole[1]!, whole[2]!) ?? null;
    return fill(value, values, (raw) => raw);
  }
  if (Array.isArray(value)) return value.map((item) => fillBody(item, values));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fillBody(item, values)]));
  return value;
}

/** The concrete request: values are encoded where they land, so no argument can change the host, path shape or headers. */
export function renderRequest(
  request: ActionRequest,
  values: TemplateValues,
): { url: URL; method: string; headers: Record<string, string>; body: string | undefined } {
  const url = new URL(fill(request.url, values, pathValue));
  for (const [key, text] of Object.entries(request.query))
    url.searchParams.set(
      key,
      fill(text, values, (raw) => raw),
    );
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  let body: string | undefined;
  if (request.body !== undefined && request.method !== 'GET') {
    body = JSON.stringify(fillBody(request.body, values));
    headers['content-type'] = 'application/json';
  }
  return { url, method: request.method, headers, body };
}
