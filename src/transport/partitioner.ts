// Maxwell-compatible partition choice: a hash of the partition string (Java's String.hashCode,
// or MurmurHash3 x86_32 over UTF-8 with seed 25342), then abs(hash % partitions), exactly as
// Maxwell computes it, so both put the same events in the same partitions.

export type PartitionHash = 'default' | 'murmur3';

export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** MurmurHash3 x86_32 of the UTF-8 bytes of `s` (Maxwell's `kafka_partition_hash=murmur3`). */
export function murmur3(s: string, seed = 25342): number {
  const data = Buffer.from(s, 'utf8');
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed | 0;
  const blocks = data.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = data.readInt32LE(i);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = data.length & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= data[blocks + 2] << 16;
    if (tail >= 2) k ^= data[blocks + 1] << 8;
    k ^= data[blocks];
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Partition of a message whose partition string is `key`. */
export function partitionFor(key: string, partitions: number, hash: PartitionHash = 'default'): number {
  const h = hash === 'murmur3' ? murmur3(key) : javaStringHash(key);
  return Math.abs(h % partitions);
}
