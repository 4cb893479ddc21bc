import { packBatch, unpackBatch } from '../../src/outbox/kafka-thread-protocol';
import type { OutgoingMessage } from '../../src/ports/event-publisher.port';

describe('a batch between the relay and the Kafka thread', () => {
  it('comes out as it went in, values included, whatever buffer they viewed', () => {
    // As the pg driver hands them: views on a larger buffer, at offsets.
    const socket = Buffer.from('....first value|second|......');
    const messages: OutgoingMessage[] = [
      { topic: 't.customers.v1', key: 'cus_1', value: socket.subarray(4, 15), headers: { ce_id: 'evt_1' } },
      { topic: 't.customers.v1', key: 'cus_ü', value: Buffer.alloc(0), headers: {} },
      { topic: 't.payments.v1', key: 'sub_2', value: socket.subarray(16, 22), headers: { ce_id: 'evt_3', x: 'ü' } },
    ];
    const packed = packBatch(messages);
    // Only the values' bytes move, not the buffers they viewed.
    expect(packed.values.byteLength).toBe(17);
    const unpacked = unpackBatch(packed);
    expect(unpacked.map((m) => ({ ...m, value: m.value.toString() }))).toEqual(
      messages.map((m) => ({ ...m, value: m.value.toString() })),
    );
    expect(unpacked.every((m) => Buffer.isBuffer(m.value))).toBe(true);
  });

  it('packs an empty batch', () => {
    expect(unpackBatch(packBatch([]))).toEqual([]);
  });
});
