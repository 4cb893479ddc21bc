import {
  KafkaJSAggregateError,
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSTimeout,
} from 'kafkajs';
import { worthAnotherLook } from '../../src/outbox/kafka-topics';

const protocolError = (type: string, retriable = false) =>
  new KafkaJSProtocolError({ message: type, type, code: 0, retriable } as never);

/** As kafkajs throws it (its typings declare no argument, its code passes the message). */
const leaderWaitTimedOut = () =>
  new (KafkaJSTimeout as unknown as new (message: string) => Error)('Timed out while waiting for topic leaders');

describe('creating topics looks again', () => {
  it('when a broker that answers says the topics are not ready yet, or were just created by another client', () => {
    expect(worthAnotherLook(protocolError('UNKNOWN_TOPIC_OR_PARTITION', true))).toBe(true);
    expect(worthAnotherLook(protocolError('LEADER_NOT_AVAILABLE', true))).toBe(true);
    expect(worthAnotherLook(leaderWaitTimedOut())).toBe(true);
    const created = new KafkaJSAggregateError('Topic creation errors', [
      protocolError('TOPIC_ALREADY_EXISTS'),
      protocolError('UNKNOWN_TOPIC_OR_PARTITION', true),
    ]);
    expect(worthAnotherLook(created)).toBe(true);
  });

  it('not when no broker answers (the relay backs off itself), nor on a refusal that will not change', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    expect(worthAnotherLook(refused)).toBe(false);
    expect(worthAnotherLook(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 500 }))).toBe(
      false,
    );
    expect(worthAnotherLook(protocolError('TOPIC_AUTHORIZATION_FAILED'))).toBe(false);
    const mixed = new KafkaJSAggregateError('Topic creation errors', [
      protocolError('TOPIC_ALREADY_EXISTS'),
      protocolError('INVALID_REPLICATION_FACTOR'),
    ]);
    expect(worthAnotherLook(mixed)).toBe(false);
  });
});
