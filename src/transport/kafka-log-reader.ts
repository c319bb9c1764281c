// Reads the last committed value of keys in a single-partition topic (capture's positions topic)
// deterministically: from the partition's start up to its end for read-committed consumers as
// taken when the read begins, with no consumer group, or fails by a deadline
// (docs/OPERATIONS.md, "How progress is kept").

import { My2pgError } from '../core/errors.js';
import { openPartitionLog, type FetchedBatches, type Kafka, type PartitionLog } from './kafkajs.js';

/** How long a fetch may wait at the broker for records. */
const FETCH_WAIT_MS = 500;
/** Pause before connecting again after a failed request. */
const RETRY_MS = 500;

export interface LogRead {
  kafka: Kafka;
  topic: string;
  /** What is read, for the error: "capture's stored position". */
  what: string;
  /** Which keys to keep. */
  wanted: (key: string) => boolean;
  /** The deadline for the whole read. */
  timeoutMs: number;
}

/**
 * The last committed value of each key `wanted` accepts (null for a tombstone) in partition 0
 * of the topic, up to the end offset taken at the start: records other clients write afterwards
 * are not waited for. Connection failures are retried until the deadline, then the read fails
 * with a retriable UNREACHABLE error; an empty map means the log holds no such key.
 */
export async function readLastValues({ kafka, topic, what, wanted, timeoutMs }: LogRead): Promise<Map<string, string | null>> {
  const last = new Map<string, string | null>();
  let next = 0n;
  let end: bigint | null = null;
  let failure: Error | null = null;
  let timedOut: My2pgError | null = null;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject((timedOut = deadlineError())), timeoutMs)));
  expired.catch(() => undefined);
  const within = <T>(p: Promise<T>): Promise<T> => Promise.race([p, expired]);
  function deadlineError(): My2pgError {
    const where = end === null ? 'its end offset could not be read' : `read up to offset ${next} of ${end}`;
    const cause = failure === null ? '' : ` (last error: ${failure.message})`;
    return new My2pgError(
      'UNREACHABLE',
      `cannot read ${what} from the Kafka topic ${topic}, partition 0, within ${timeoutMs / 1000} s: ${where}${cause}. ` +
        'Capture does not start without it (starting anew would skip what was written meanwhile): check that the Kafka brokers are reachable and the partition has a leader, then start capture again.',
      { retriable: true, cause: failure ?? undefined },
    );
  }

  try {
    for (;;) {
      let log: PartitionLog | null = null;
      try {
        const opening = openPartitionLog(kafka, topic, 0);
        // Opened only after the deadline: closed again, not left connected.
        opening.then((l) => timedOut && void l.close().catch(() => undefined), () => undefined);
        log = await within(opening);
        if (end === null) ({ start: next, end } = await within(log.offsets()));
        while (next < end) next = collect(await within(log.fetch(next, FETCH_WAIT_MS)), next, wanted, last);
        await within(log.close());
        return last;
      } catch (err) {
        if (err === timedOut) throw err;
        failure = err as Error;
        // The requests under way may never be answered: close without waiting for them.
        void log?.close().catch(() => undefined);
        await within(new Promise((r) => setTimeout(r, RETRY_MS)));
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Keeps the committed records of one fetch at or after `from` in `last`; returns the offset to
 * fetch next. Records of aborted transactions are left out as Kafka's own consumer does: a
 * producer's transactional batches are aborted from the first offset the broker lists for it
 * until its abort marker. Markers and left-out records occupy offsets too, so the next offset is
 * the end of the last whole batch.
 */
function collect({ records, abortedTransactions, nextOffset }: FetchedBatches, from: bigint, wanted: (key: string) => boolean, last: Map<string, string | null>): bigint {
  const pending = [...abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const aborted = new Set<string>();
  for (const r of records) {
    const batch = r.batchContext;
    const batchEnd = BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta);
    while (pending.length > 0 && pending[0].firstOffset <= batchEnd) aborted.add(pending.shift()!.producerId);
    if (r.isControlRecord) {
      // A control record's key: version (int16), type (int16; 0 = abort, 1 = commit).
      if (r.key && r.key.length >= 4 && r.key.readInt16BE(2) === 0) aborted.delete(batch.producerId);
      continue;
    }
    if (BigInt(r.offset) < from || (batch.inTransaction && aborted.has(batch.producerId))) continue;
    const key = r.key?.toString();
    if (key !== undefined && wanted(key)) last.set(key, r.value ? r.value.toString() : null);
  }
  return nextOffset !== undefined && nextOffset > from ? nextOffset : from;
}
