// Runs tasks one after another in call order, like onnxruntime's session: a task starts when
// the one before it has settled. close() stops new tasks and waits for the queued ones, which
// all run: that is what release() promises.
import { DenseNetError } from "../errors.js";

export class RunQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** Whether close() has been called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues `task`; after close(), rejects with `closedMessage` without running it. */
  push<T>(task: () => Promise<T> | T, closedMessage = "session has been released"): Promise<T> {
    if (this.closed) return Promise.reject(new DenseNetError(closedMessage));
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Refuses further tasks, then resolves once every queued task has settled. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
  }
}
