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
