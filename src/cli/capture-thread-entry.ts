// Entry of the capture thread of `my2pg run` without Kafka (capture-thread.ts starts it): reads
// the binlog and posts Maxwell messages to the CLI's thread through a ThreadPublisher, then
// reports how it ended: the CLI's thread rebuilds the error, so exit codes are those of a
// capture on the CLI's own thread.

import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import { errorParts } from '../core/errors.js';
import type { StreamMessage } from '../core/events.js';
import { createLogger } from '../core/logger.js';
import { compareCursors, type EventCursor } from '../core/position.js';
import { ThreadPublisher, type CaptureThreadEnd, type ToCaptureThread } from '../transport/thread-channel.js';
import { captureStage, embeddedStore } from './stages.js';

/**
 * After an outage capture reads again from the cursor committed in the replica, behind what it
 * had already handed to apply: those messages (same cursors) are not handed over twice.
 * Heartbeats always are: an idle source repeats the same position, and each one moves the lag.
 */
class ResumingThreadPublisher extends ThreadPublisher {
  private last: EventCursor | null = null;

  override send(messages: StreamMessage[]): Promise<void> {
    const last = this.last;
    const fresh = last === null ? messages : messages.filter((m) => m.broadcast || (m.cursor && compareCursors(m.cursor, last) > 0));
    const end = fresh.at(-1)?.cursor;
    if (end) this.last = end;
    return super.send(fresh);
  }
}

const port = parentPort!;
const { config } = workerData as { config: Config };
const log = createLogger(config.log_level);
const store = embeddedStore(config);
const publisher = new ResumingThreadPublisher(port, store);
const capture = captureStage(config, 'run', publisher, log);
port.on('message', (m: ToCaptureThread) => {
  if (m.t === 'credit') publisher.credit();
  else void capture.stop();
});

let end: CaptureThreadEnd = { t: 'ended' };
try {
  await capture.run();
} catch (err) {
  end = { t: 'ended', error: errorParts(err) };
}
await publisher.close();
port.postMessage(end);
