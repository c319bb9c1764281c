// A FIFO with a capacity: producers wait when it is full (backpressure), the consumer takes
// batches bounded by count and by time.

export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;
  private closed = false;
  private spaceWaiters: Array<() => void> = [];
  private dataWaiters: Array<() => void> = [];

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  /** Adds an item, waiting while the queue is full; `whileWaiting` runs about every second then. */
  async push(item: T, whileWaiting?: () => Promise<void>): Promise<void> {
    while (this.size >= this.capacity && !this.closed) {
      const gotSpace = await new Promise<boolean>((resolve) => {
        const waiter = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          this.spaceWaiters = this.spaceWaiters.filter((w) => w !== waiter);
          resolve(false);
        }, 1000);
        this.spaceWaiters.push(waiter);
      });
      if (!gotSpace && whileWaiting) await whileWaiting();
    }
    if (this.closed) return;
    this.items.push(item);
    this.wake(this.dataWaiters);
  }

  /** Waits for a first item, then collects up to `max` items or until `maxWaitMs` has passed. */
  async take(max: number, maxWaitMs: number): Promise<T[]> {
    while (this.size === 0 && !this.closed) await this.waitForData(null);
    const deadline = Date.now() + maxWaitMs;
    while (this.size < max && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.waitForData(left))) break;
    }
    const n = Math.min(max, this.size);
    const out = this.items.slice(this.head, this.head + n);
    this.head += n;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.wake(this.spaceWaiters);
    return out;
  }

  close(): void {
    this.closed = true;
    this.wake(this.spaceWaiters);
    this.wake(this.dataWaiters);
  }

  private waitForData(timeoutMs: number | null): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = () => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      this.dataWaiters.push(waiter);
      if (timeoutMs !== null) {
        timer = setTimeout(() => {
          this.dataWaiters = this.dataWaiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  private wake(waiters: Array<() => void>): void {
    const all = waiters.splice(0);
    for (const w of all) w();
  }
}
