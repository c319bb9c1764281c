// Entry of the Kafka publisher's thread (kafka-publisher-thread.ts): a KafkaPublisher that takes
// the calls and message batches in the order they were posted, one at a time.

import { parentPort, workerData } from 'node:worker_threads';
import { errorParts } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { KafkaPublisher, type KafkaPublisherOptions } from './kafka-publisher.js';
import type { FromPublisherThread, ToPublisherThread } from './kafka-publisher-thread.js';
import type { StreamMessage } from '../core/events.js';

const port = parentPort!;
const { opts, logLevel } = workerData as { opts: Omit<KafkaPublisherOptions, 'log'>; logLevel: string };
const publisher = new KafkaPublisher({ ...opts, log: createLogger(logLevel) });
const reply = (m: FromPublisherThread) => port.postMessage(m);

async function handle(m: ToPublisherThread): Promise<void> {
  if (m.t === 'send') {
    const c = m.messages;
    const messages: StreamMessage[] = c.keys.map((key, i) => ({
      key,
      value: c.values[i],
      database: c.databases[i],
      table: c.tables[i],
      partitionKey: c.partitionKeys[i],
      broadcast: c.broadcasts[i],
    }));
    try {
      await publisher.send(messages);
    } finally {
      reply({ t: 'credit' });
    }
    return;
  }
  const method = publisher[m.method] as (...args: unknown[]) => Promise<unknown>;
  const result = await method.apply(publisher, m.args);
  if (m.id !== undefined) reply({ t: 'reply', id: m.id, result });
}

let chain = Promise.resolve();
port.on('message', (m: ToPublisherThread) => {
  chain = chain.then(() =>
    handle(m).catch((err) => {
      const error = errorParts(err);
      reply(m.t === 'call' && m.id !== undefined ? { t: 'reply', id: m.id, error } : { t: 'failed', error });
    }),
  );
});
