// Maxwell-compatible partition choice: Java's String.hashCode of the partition key, modulo
// the partition count, as Maxwell computes it, so both put a database's events in one place.

export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Partition for a message keyed by database (Maxwell's default `producer_partition_by`). */
export function partitionByDatabase(database: string, partitions: number): number {
  return Math.abs(javaStringHash(database) % partitions);
}
