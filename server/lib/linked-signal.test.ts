import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectGarbage } from '../test/collect-garbage.js';
import { startSilentServer, type SilentServer } from '../test/silent-server.js';
import { linkSignalWithTimeout } from './linked-signal.js';

describe('linkSignalWithTimeout', () => {
  let server: SilentServer;
  let url: string;
  beforeAll(async () => {
    server = await startSilentServer();
    url = server.url;
  });
  afterAll(() => server.stop());

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
