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

  /**
   * Adds items in order, waiting while the queue is full: as many at once as there is room for,
   * with one wake-up of the consumer for them.
   */
  async pushAll(items: readonly T[]): Promise<void> {
    for (let i = 0; i < items.length && !this.closed; ) {
      const room = Math.min(items.length - i, this.capacity - this.size);
      if (room <= 0) {
        await this.push(items[i++]);
        continue;
      }
      for (const end = i + room; i < end; i++) this.items.push(items[i]);
      this.wake(this.dataWaiters);
    }
  }

  /**
   * Waits for a first item, then collects up to `max` items or until `maxWaitMs` has passed.
   * Items leave the queue as they are collected, so producers go on while a take gathers more
   * than the capacity: what is held at once is the batch being gathered and the capacity.
   */
  async take(max: number, maxWaitMs: number): Promise<T[]> {
    while (this.size === 0 && !this.closed) await this.waitForData(null);
    const out: T[] = [];
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      this.moveInto(out, max);
      if (out.length >= max || this.closed) break;
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.waitForData(left))) break;
    }
    return out;
  }

  private moveInto(out: T[], max: number): void {
    const n = Math.min(max - out.length, this.size);
    if (n === 0) return;
    for (let i = this.head; i < this.head + n; i++) {
      out.push(this.items[i]);
      this.items[i] = undefined as T; // taken: no longer held here
    }
    this.head += n;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.wake(this.spaceWaiters);
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
