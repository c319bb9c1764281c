import assert from 'node:assert/strict';
import { test } from 'node:test';
import { javaStringHash, murmur3, partitionFor } from '../../src/transport/partitioner.js';

// Vectors computed with Java's String.hashCode and Guava's murmur3_32(25342) (Maxwell's hashes).
const VECTORS: Array<[string, number, number, number, number, number, number]> = [
  ['test', 3556498, 4, 10, 986285685, 3, 9],
  ['test_db', -1422455989, 1, 1, 965203138, 4, 10],
  ['orders', -1008770331, 3, 3, 190045300, 4, 4],
  ['1', 49, 1, 1, -1155099792, 0, 0],
  ['42', 1662, 0, 6, -1185823928, 2, 8],
  ['None', 2433880, 4, 4, -1571757336, 0, 0],
  ['testorders', -1767869961, 3, 9, -1606714519, 1, 7],
  ['café', 3045921, 3, 9, -1286971093, 1, 1],
];

test('hashes and partitions match Maxwell', () => {
  for (const [s, java, p6, p12, mm, m6, m12] of VECTORS) {
    assert.equal(javaStringHash(s), java, s);
    assert.equal(partitionFor(s, 6), p6, `${s} % 6`);
    assert.equal(partitionFor(s, 12), p12, `${s} % 12`);
    assert.equal(murmur3(s), mm, `murmur3 ${s}`);
    assert.equal(partitionFor(s, 6, 'murmur3'), m6);
    assert.equal(partitionFor(s, 12, 'murmur3'), m12);
  }
});
