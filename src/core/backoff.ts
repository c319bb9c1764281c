// Riding out a server's outage (docs/OPERATIONS.md, "Outages and retries"): a retriable failure
// is retried after a delay that doubles from 200 ms up to 10 s, each retry logged once at warn,
// until `retry_max_ms` has passed since the outage began; then the stage gives up (exit code 3).

import { My2pgError, outageError } from './errors.js';
import type { Logger } from './logger.js';

const FIRST_DELAY_MS = 200;
const MAX_DELAY_MS = 10_000;

export class Backoff {
  private since: number | null = null;
  private attempt = 0;
  private wake: (() => void) | null = null;
  private cancelled = false;

  /** `budgetMs`: how long one outage is retried (`retry_max_ms`, default 5 minutes). */
  constructor(
    private readonly log: Logger,
    private readonly budgetMs = 300_000,
  ) {}

  /**
   * `what` failed with `err`: rethrows it when retrying cannot help or the outage has lasted
   * the budget; otherwise logs the retry and waits the next delay (cut short by cancel()).
   */
  async failed(what: string, err: My2pgError): Promise<void> {
    if (!err.retriable || this.cancelled) throw err;
    const now = Date.now();
    this.since ??= now;
    const outageMs = now - this.since;
    if (outageMs >= this.budgetMs) {
      throw new My2pgError(
        'UNREACHABLE',
        `${what} failed for ${Math.round(outageMs / 1000)} s, longer than retry_max_ms (${this.budgetMs} ms); giving up: ${err.message}. ` +
          'Bring the server back (or raise retry_max_ms) and start my2pg again: it resumes from its stored position',
        { cause: err },
      );
    }
    const delayMs = Math.min(FIRST_DELAY_MS * 2 ** this.attempt++, MAX_DELAY_MS, this.budgetMs - outageMs);
    this.log.warn({ error: err.message, attempt: this.attempt, delayMs, outageMs }, `${what} failed; retrying in ${delayMs} ms`);
    await this.pause(delayMs);
  }

  /**
   * Runs `fn` (given the attempt number, 0 first) until it succeeds: each failure goes through
   * failed() as an outage of `what` (outageError), so only outages are retried.
   */
  async retry<T>(what: string, fn: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(attempt);
      } catch (err) {
        await this.failed(what, outageError(what, err));
      }
    }
  }

  /** The server works again: the next failure begins a new outage. */
  recovered(): void {
    this.since = null;
    this.attempt = 0;
  }

  /** Waits `ms`, or less when cancel() is called. */
  async pause(ms: number): Promise<void> {
    if (this.cancelled) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = null;
  }

  /** The stage is stopping: no more waiting, and the next failure is not retried. */
  cancel(): void {
    this.cancelled = true;
    this.wake?.();
  }
}
