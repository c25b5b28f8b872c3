/** A per-call signal that follows a longer-lived one, unlinked by `release()`. */
export interface LinkedSignal {
  signal: AbortSignal;
  /** Aborts this signal only (e.g. on a per-call timeout). */
  abort(reason?: unknown): void;
  release(): void;
}

/**
 * Follows `outer` (a request's, a worker's or the server's shutdown signal) with a signal of
 * its own, so libraries that add abort listeners per call leave none behind on `outer`
 * (AbortSignal.any keeps its links until garbage collection).
 */
export function linkSignal(outer?: AbortSignal): LinkedSignal {
  const controller = new AbortController();
  const onAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    release: () => outer?.removeEventListener('abort', onAbort),
  };
}

/**
 * `linkSignal(outer)` that also aborts after `ms` with a `TimeoutError`, as `AbortSignal.timeout`
 * does; `release()` clears the timer. Not `AbortSignal.any([outer, AbortSignal.timeout(ms)])`:
 * on Node 20 a timeout signal nobody listens to directly can be garbage-collected before it
 * fires, and the call then never times out (a webhook receiver that never answers held its
 * delivery forever once a collection ran during the wait).
 */
export function linkSignalWithTimeout(outer: AbortSignal | undefined, ms: number): LinkedSignal {
  const linked = linkSignal(outer);
  const timer = setTimeout(
    () => linked.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    ms,
  );
  return {
    ...linked,
    release: () => {
      clearTimeout(timer);
      linked.release();
    },
  };
}
