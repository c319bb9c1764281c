// Kafka's (kafkajs') errors as my2pg errors: a broker that is down, restarting or electing
// leaders is a retriable outage (docs/OPERATIONS.md, "Outages and retries"); what a retry cannot
// fix (authorization, a fenced producer, a record too large) is not.

import { My2pgError } from '../core/errors.js';

const OUTAGE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSStaleTopicMetadataAssignment',
]);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);
/** Protocol errors a new attempt (with a new producer) cannot get past. */
const FATAL_TYPES = new Set([
  'PRODUCER_FENCED',
  'INVALID_PRODUCER_EPOCH',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_TOPIC_EXCEPTION',
]);

interface KafkaJsError {
  name?: string;
  type?: string;
  code?: string;
  retriable?: boolean;
  cause?: unknown;
  originalError?: unknown;
}

/** The error and the errors it wraps, outermost first. */
function chain(err: unknown): KafkaJsError[] {
  const out: KafkaJsError[] = [];
  for (let e = err as KafkaJsError | undefined; e && typeof e === 'object' && out.length < 10; e = (e.cause ?? e.originalError) as KafkaJsError | undefined) out.push(e);
  return out;
}

export function isKafkaOutage(err: unknown): boolean {
  const errors = chain(err);
  if (errors.some((e) => e.type !== undefined && FATAL_TYPES.has(e.type))) return false;
  return errors.some((e) => OUTAGE_NAMES.has(e.name ?? '') || SOCKET_CODES.has(e.code ?? '') || e.retriable === true);
}

/** `err` of a Kafka call, with what we were doing: UNREACHABLE and retriable when the broker is out. */
export function kafkaError(context: string, err: unknown): My2pgError {
  if (err instanceof My2pgError) return err;
  const outage = isKafkaOutage(err);
  return new My2pgError(outage ? 'UNREACHABLE' : 'STREAM', `${context}: ${(err as Error)?.message ?? String(err)}`, { retriable: outage, cause: err });
}
