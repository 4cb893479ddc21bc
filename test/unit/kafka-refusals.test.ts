import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { refusedForGood } from '../../src/outbox/kafka-refusals';

const protocolError = (type: string, retriable = false) =>
  new KafkaJSProtocolError({ message: type, type, code: 0, retriable } as never);

describe('Kafka refusals for good', () => {
  it('finds a poison refusal however kafkajs wraps it', () => {
    const tooLarge = protocolError('MESSAGE_TOO_LARGE');
    expect(refusedForGood(tooLarge)).toBe('MESSAGE_TOO_LARGE');
    expect(refusedForGood(Object.assign(new KafkaJSNonRetriableError(tooLarge), { cause: tooLarge }))).toBe(
      'MESSAGE_TOO_LARGE',
    );
    expect(refusedForGood(protocolError('RECORD_LIST_TOO_LARGE'))).toBe('RECORD_LIST_TOO_LARGE');
    expect(refusedForGood(protocolError('INVALID_RECORD'))).toBe('INVALID_RECORD');
  });

  it('leaves outages and configuration errors to be retried, not parked', () => {
    expect(refusedForGood(protocolError('NOT_LEADER_FOR_PARTITION', true))).toBeUndefined();
    expect(refusedForGood(protocolError('TOPIC_AUTHORIZATION_FAILED'))).toBeUndefined();
    expect(refusedForGood(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'))).toBeUndefined();
  });
});
