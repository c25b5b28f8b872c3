/** One refused write of a failed bulk write or `insertMany`: its place in the list sent, and why. */
export interface WriteError {
  index: number;
  code?: unknown;
  errmsg?: unknown;
}

interface ReportedWriteError {
  index?: unknown;
  code?: unknown;
  errmsg?: unknown;
  /** mongoose's `insertMany` wraps the driver's write error. */
  err?: { index?: unknown; code?: unknown; errmsg?: unknown };
}

/**
 * The writes a failed bulk write (or `insertMany`) refused, each with its index; null when the error does not
 * name every refused write, and so says nothing of which writes were made. That includes a bulk write that lost
 * its connection: the driver reports it as a bulk write error with no write errors, and none of its writes is
 * known made.
 */
export function writeErrorsOf(error: unknown): WriteError[] | null {
  const reported = (error as { writeErrors?: unknown } | null)?.writeErrors;
  if (!Array.isArray(reported) || reported.length === 0) return null;
  const writes: WriteError[] = [];
  for (const item of reported as ReportedWriteError[]) {
    const index = item.index ?? item.err?.index;
    if (typeof index !== 'number') return null;
    writes.push({ index, code: item.code ?? item.err?.code, errmsg: item.errmsg ?? item.err?.errmsg });
  }
  return writes;
}
