import { lookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { pipeline, type Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import { IngestError } from '../ingest-error.js';
import { literalAddress, type AddressPolicy } from '../../net/address-policy.js';
import { linkSignal } from '../../lib/linked-signal.js';

/** Identifies the fetcher to site owners, as polite crawlers do. */
export const USER_AGENT = 'WispBot/0.1 (knowledge base fetcher of the Wisp support agent)';

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
}

export interface FetchedResource {
  finalUrl: string;
  status: number;
  contentType: string;
  body: Buffer;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GETs a URL for a source: every hop's host is resolved and checked against the
 * policy, and the connection goes to exactly the checked addresses (no second DNS
 * answer can swap in a private one). Size, time and redirects are bounded.
 */
export async function safeFetch(
  url: string,
  policy: AddressPolicy,
  limits: FetchLimits,
  signal?: AbortSignal,
): Promise<FetchedResource> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  // A per-call signal, unlinked in `finally`, so the worker's long-lived signal collects no listeners.
  const linked = linkSignal(signal);
  timeout.addEventListener('abort', () => linked.abort(timeout.reason), { once: true });
  const combined = linked.signal;
  let current = new URL(url);
  try {
    for (let hop = 0; ; hop += 1) {
      const response = await requestOnce(current, policy, combined);
      if (REDIRECTS.has(response.statusCode ?? 0)) {
        response.resume();
        const location = response.headers.location;
        if (!location) throw new IngestError(`${current.href} redirected without a Location`, { retryable: false });
        if (hop >= limits.maxRedirects) {
          throw new IngestError(`more than ${limits.maxRedirects} redirects from ${url}`, { retryable: false });
        }
        current = new URL(location, current);
        continue;
      }
      const status = response.statusCode ?? 0;
      if (status >= 400) {
        response.resume();
        throw new IngestError(`${current.href} answered HTTP ${status}`, {
          retryable: status >= 500 || status === 429 || status === 408,
        });
      }
      const body = await readBody(response, limits.maxBytes, current.href);
      return {
        finalUrl: current.href,
        status,
        contentType: String(response.headers['content-type'] ?? ''),
        body,
      };
    }
  } catch (error) {
    if (timeout.aborted && !signal?.aborted) {
      throw new IngestError(`fetching ${current.href} timed out after ${limits.timeoutMs} ms`, {
        retryable: true,
        cause: error,
      });
    }
    if (signal?.aborted) throw signal.reason;
    if (error instanceof IngestError) throw error;
    const code = (error as { code?: string }).code;
    throw new IngestError(`fetching ${current.href} failed${code ? ` (${code})` : ''}`, {
      retryable: code !== 'ENOTFOUND',
      cause: error,
    });
  } finally {
    linked.release();
  }
}

/** Resolves and checks the host, then sends one GET pinned to the checked addresses. */
async function requestOnce(target: URL, policy: AddressPolicy, signal: AbortSignal): Promise<IncomingMessage> {
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new IngestError(`${target.href} is not an http(s) address`, { retryable: false });
  }
  const literal = literalAddress(target.hostname);
  const addresses = literal
    ? [{ address: literal, family: literal.includes(':') ? 6 : 4 }]
    : await lookup(target.hostname, { all: true, verbatim: true });
  if (addresses.length === 0) throw new IngestError(`${target.hostname} does not resolve`, { retryable: false });
  for (const { address } of addresses) {
    const reason = policy.refuse(address);
    if (reason) throw new IngestError(`refused ${target.href}: ${reason}`, { retryable: false });
  }
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
  };
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const request = client.get(
      target,
      {
        lookup: pinned,
        signal,
        headers: {
          'user-agent': USER_AGENT,
          accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,text/plain;q=0.8,*/*;q=0.5',
          'accept-encoding': 'gzip, deflate, br',
        },
      },
      resolve,
    );
    request.on('error', reject);
  });
}

/** Reads the (decompressed) body, failing as soon as it passes `maxBytes`. */
async function readBody(response: IncomingMessage, maxBytes: number, url: string): Promise<Buffer> {
  const declared = Number(response.headers['content-length'] ?? NaN);
  const tooLarge = () => new IngestError(`${url} is larger than the limit of ${maxBytes} bytes`, { retryable: false });
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw tooLarge();
  }
  let stream: Readable = response;
  const encoding = String(response.headers['content-encoding'] ?? '').toLowerCase();
  // Decompressed size is what counts, so a small compressed bomb cannot exhaust memory.
  const decoder: Transform | null =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? zlib.createGunzip()
      : encoding === 'deflate'
        ? zlib.createInflate()
        : encoding === 'br'
          ? zlib.createBrotliDecompress()
          : null;
  // pipeline() carries an aborted or broken response into the decoder, so the loop below ends either way.
  if (decoder) stream = pipeline(response, decoder, () => undefined);
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const part of stream) {
      const buffer = part as Buffer;
      size += buffer.length;
      if (size > maxBytes) {
        response.destroy();
        throw tooLarge();
      }
      parts.push(buffer);
    }
  } finally {
    if (stream !== response) stream.destroy();
  }
  return Buffer.concat(parts);
}
