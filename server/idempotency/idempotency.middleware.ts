import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { ApiKeyPrincipal } from '../api-keys/api-keys.service.js';
import { AppError } from '../errors/app-error.js';
import type { IdempotencyService } from './idempotency.service.js';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** Response headers a replay repeats besides the body. */
const REPLAYED_HEADERS = ['location', 'wisp-quota-warning'];

/** JSON with object keys sorted, so the same body in another key order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function fingerprintOf(req: Request): string {
  const hash = createHash('sha256');
  hash.update(`${req.method} ${req.originalUrl}\n${canonical(req.body ?? null)}`);
  const file = (req as { file?: { buffer?: Buffer; originalname?: string } }).file;
  if (file?.buffer) hash.update(`\n${file.originalname ?? ''}\n`).update(file.buffer);
  return hash.digest('hex');
}

/** Replays, conflicts and refusals are stored; failures a retry should run again (409, 429, 5xx) are not. */
function worthKeeping(status: number): boolean {
  return status < 500 && status !== 409 && status !== 429;
}

/**
 * `Idempotency-Key` on a POST (Stripe semantics): the same key with the same request within
 * 24 hours gets the first response again (`Idempotent-Replayed: true`) without running twice;
 * with another request, 422 `IdempotencyError`; while the first still runs, 409 (a first request cut by a
 * crash stops renewing its claim, which then lapses within the service's lock time). Keys belong
 * to the organization (public routes: the caller's address). A streamed answer cannot be
 * replayed, so `stream: true` with a key is refused (`clientMessageId` makes those retries safe).
 */
export function idempotency(service: IdempotencyService): RequestHandler {
  return async (req, res, next) => {
    const key = req.get(IDEMPOTENCY_HEADER);
    if (key === undefined) return next();
    if (!KEY_PATTERN.test(key)) {
      throw new AppError('ValidationError', {
        message: `${IDEMPOTENCY_HEADER} must be 1 to 255 visible ASCII characters (a UUID is a good choice)`,
        details: { fields: [{ path: IDEMPOTENCY_HEADER, message: 'must be 1 to 255 visible ASCII characters' }] },
      });
    }
    if ((req.body as { stream?: unknown } | undefined)?.stream === true) {
      throw new AppError('ValidationError', {
        message: `${IDEMPOTENCY_HEADER} cannot be used with "stream": true, since a stream cannot be replayed; send "clientMessageId" ("client_message_id" in the snake_case dialects and the OpenAI-compatible endpoint) to make a streamed chat safe to retry, or drop "stream"`,
        details: { fields: [{ path: IDEMPOTENCY_HEADER, message: 'not allowed with "stream": true' }] },
      });
    }
    const principal = res.locals.principal as ApiKeyPrincipal | undefined;
    const scope = principal ? `org:${principal.organizationId}` : `ip:${req.ip ?? 'unknown'}`;
    const claim = await service.claim(scope, key, fingerprintOf(req));
    if (claim.kind === 'replay') {
      const { status, body, headers } = claim.response;
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      res.setHeader('Idempotent-Replayed', 'true');
      res.status(status).type('application/json').send(body);
      return;
    }
    // Renewed while the request runs, so the key stays held however long it takes, and a request cut by a
    // crash (nothing renews it) frees it within the lock time for a retry with the same key.
    const renewal = setInterval(
      () =>
        void service.renew(claim.id).catch((error: unknown) => {
          (req as { log?: { warn: (o: unknown, m: string) => void } }).log?.warn(
            { err: error },
            'could not renew an idempotency claim',
          );
        }),
      Math.max(100, Math.floor(service.lockMs / 3)),
    );
    renewal.unref();
    capture(res, async (response) => {
      clearInterval(renewal);
      if (response && worthKeeping(response.status)) await service.complete(claim.id, response);
      else await service.abandon(claim.id);
    });
    next();
  };
}

/**
 * Calls `settle` with a JSON response before it is sent, so a retry that arrives the moment the
 * client has the answer finds it stored (not still running); a response that is not JSON, or a
 * request cut off before answering, settles with null once the connection is done.
 */
function capture(
  res: Response,
  settle: (response: { status: number; body: string; headers: Record<string, string> } | null) => Promise<void>,
): void {
  let settled = false;
  const settleOnce = async (response: Parameters<typeof settle>[0]) => {
    if (settled) return;
    settled = true;
    await settle(response).catch((error: unknown) => {
      (res.req as { log?: { error: (o: unknown, m: string) => void } }).log?.error(
        { err: error },
        'could not record an idempotent response',
      );
    });
  };
  const json = res.json.bind(res);
  res.json = (body: unknown) => {
    const headers = Object.fromEntries(
      REPLAYED_HEADERS.flatMap((name) => {
        const value = res.getHeader(name);
        return value === undefined ? [] : [[name, String(value)]];
      }),
    );
    const response = { status: res.statusCode, body: JSON.stringify(body), headers };
    void settleOnce(response).then(() => json(body));
    return res;
  };
  res.once('close', () => void settleOnce(null));
}
