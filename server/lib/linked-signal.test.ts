import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectGarbage } from '../test/collect-garbage.js';
import { linkSignalWithTimeout } from './linked-signal.js';

describe('linkSignalWithTimeout', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Takes the request and never answers.
    server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('times out a request that gets no answer, with garbage collected during the wait', async () => {
    const outer = new AbortController();
    const timeout = linkSignalWithTimeout(outer.signal, 300);
    const collecting = setInterval(collectGarbage, 20);
    try {
      const error = await fetch(url, { method: 'POST', body: 'x', signal: timeout.signal }).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error?.name).toBe('TimeoutError');
      expect(outer.signal.aborted).toBe(false);
    } finally {
      clearInterval(collecting);
      timeout.release();
    }
  });

  it('aborts with the outer reason, and stops timing once released', async () => {
    const outer = new AbortController();
    const linked = linkSignalWithTimeout(outer.signal, 50);
    outer.abort(new Error('shutting down'));
    expect(linked.signal.aborted).toBe(true);
    expect((linked.signal.reason as Error).message).toBe('shutting down');

    const released = linkSignalWithTimeout(undefined, 50);
    released.release();
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(released.signal.aborted).toBe(false);
  });
});
