// Reads every committed message of a topic from the beginning (read-committed), for tests.

import { Kafka, logLevel } from '../../src/transport/kafkajs.js';
import { kafkaBrokers, randomSuffix, waitFor } from './servers.js';

export interface TopicMessage {
  key: string;
  value: string;
  partition: number;
}

export async function readTopic(topic: string, until: (values: string[]) => boolean, timeoutMs = 60_000): Promise<string[]> {
  return (await readTopicMessages(topic, until, timeoutMs)).map((m) => m.value);
}

export async function readTopicMessages(topic: string, until: (values: string[]) => boolean, timeoutMs = 60_000): Promise<TopicMessage[]> {
  const kafka = new Kafka({ clientId: 'my2pg-test-reader', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `test-reader-${randomSuffix()}`, readUncommitted: false });
  const values: string[] = [];
  const messages: TopicMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        const value = message.value?.toString('utf8') ?? '';
        values.push(value);
        messages.push({ key: message.key?.toString('utf8') ?? '', value, partition });
      },
    });
    await waitFor(`messages on ${topic}`, async () => until(values), timeoutMs, 100);
    // Anything published after the condition held would show up now.
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await consumer.disconnect();
  }
  return messages;
}
