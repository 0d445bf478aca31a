// Heavy synchronous work on the server's event loop (parsing a JSON body of megabytes,
// decoding an image) taken one piece per event-loop turn: when many bodies finish arriving
// at once, the loop polls I/O between their parses, so health probes and other requests are
// not held behind all of them.

/** Hands out event-loop turns in the order they are asked for, one piece of work each. */
export class EventLoopTurns {
  private last: Promise<void> = Promise.resolve();

  /**
   * Resolves in a later event-loop turn than every earlier caller's, after the earlier
   * caller's synchronous continuation has run (its `await` was registered first): the caller
   * then does its piece of work synchronously. Never rejects.
   */
  next(): Promise<void> {
    const turn = this.last.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    this.last = turn;
    return turn;
  }
}

/**
 * How many body bytes all requests together take in per event-loop turn. libuv drains every
 * readable socket up to 32 reads (2 MB) in one poll phase, so 64 clients uploading 3 MB bodies
 * at once would hold the loop for ~100 ms; a reader past the turn's budget pauses until the
 * next turn, leaving the rest in the kernel's socket buffer (the client's writes wait).
 */
export class ReadBudget {
  private used = 0;
  private waiting: (() => void)[] = [];
  private resetting = false;

  constructor(readonly bytesPerTurn: number) {}

  /** Counts `bytes` just read; false once this turn's budget is spent (the reader should pause and call `later`). */
  take(bytes: number): boolean {
    this.used += bytes;
    this.resetAfterThisTurn();
    return this.used <= this.bytesPerTurn;
  }

  /** Calls `resume` in a later turn, with a fresh budget. */
  later(resume: () => void): void {
    this.waiting.push(resume);
    this.resetAfterThisTurn();
  }

  private resetAfterThisTurn(): void {
    if (this.resetting) return;
    this.resetting = true;
    setImmediate(() => {
      this.resetting = false;
      this.used = 0;
      const waiting = this.waiting;
      this.waiting = [];
      for (const resume of waiting) resume();
    });
  }
}
