/**
 * Lets a bounded number of widget turns be in their storing phase (from the send until the turn is
 * accepted: stored, or refused) at once; the others wait in arrival order. A burst of messages
 * then comes through one turn after another instead of every turn taking its next database round
 * trip in lockstep with all the others (and all of them being stored last). The answers themselves
 * (retrieval, the model's stream) are not bounded here.
 */
export class TurnAdmission {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  /** `limit`: turns let in at once, a whole number of at least 1 (WIDGET_TURN_CONCURRENCY). */
  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`turn admission limit must be a whole number ≥ 1, got ${limit}`);
  }

  /** Waits for a place; the returned function gives it back (calling it again does nothing). */
  async enter(): Promise<() => void> {
    if (this.running < this.limit) this.running += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const next = this.waiting.shift();
      // The place passes straight to the next in line, so `running` stays counted for it.
      if (next) next();
      else this.running -= 1;
    };
  }

  /** Turns waiting for a place. */
  get queued(): number {
    return this.waiting.length;
  }
}
