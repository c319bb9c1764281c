// Reads something every few milliseconds in the background while a test goes on, keeping what
// each read returned (a failed read is skipped), until stopped.

import { sleep } from './servers.js';

export function sampleEvery<T>(everyMs: number, read: () => Promise<T | null>): { stop: () => Promise<T[]> } {
  const samples: T[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const value = await read().catch(() => null);
      if (value !== null) samples.push(value);
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}
