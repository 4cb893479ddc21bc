import { encodeRecord, RecordInput } from '../../src/outbox/kafka-record-encoding';

type Encoder = { buffer: Buffer };
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs' internals have no typed entry points */
const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (input: RecordInput) => Encoder;
const PRODUCE_V3 = 'kafkajs/src/protocol/requests/produce/v3/request';
type ProduceRequest = (args: object) => { encode(): Promise<Encoder> };

/** The relay's CloudEvents headers, as it sends them. */
const cloudEventHeaders = {
  ce_specversion: '1.0',
  ce_id: 'evt_01JD5Q4W3M6Y',
  ce_source: '//billing-adapter/storefronts/store-1',
  ce_type: 'billing.subscription.renewed',
  ce_time: '2026-12-02T10:56:16.902Z',
  ce_subject: 'sub_123',
  'content-type': 'application/protobuf',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
};

/** A small deterministic generator, so a failure names a reproducible case. */
function* seeded(seed: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    yield x;
  }
}

function randomRecords(count: number): RecordInput[] {
  const next = seeded(42);
  const int = (below: number) => next.next().value % below;
  const text = () => 'aü€😀 \u0000z'.slice(0, int(8)).repeat(int(40));
  const bytes = () => Buffer.alloc(int(3) === 0 ? int(20_000) : int(300), int(256));
  const field = () => [null, undefined, text(), bytes()][int(4)];
  return Array.from({ length: count }, () => {
    const headers: Record<string, string | Buffer | (string | Buffer)[]> = {};
    for (let h = int(14); h > 0; h--)
      headers[text() + h] = int(5) === 0 ? [text(), bytes()] : int(2) ? text() : bytes();
    return {
      offsetDelta: int(2) ? int(600) : int(2 ** 29),
      timestampDelta: int(2) ? 0 : int(2 ** 30) - 2 ** 29,
      key: field(),
      value: field(),
      headers,
    };
  });
}

describe("the relay's Kafka record encoding", () => {
  it('writes the bytes kafkajs writes, for the records the relay sends and for any other', () => {
    const records: RecordInput[] = [
      { offsetDelta: 0, timestampDelta: 0, key: 'sub_123', value: Buffer.from('payload'), headers: cloudEventHeaders },
      { offsetDelta: 499, timestampDelta: 0, key: 'cus_ü', value: Buffer.alloc(0), headers: {} },
      { key: null, value: null },
      { offsetDelta: 64, timestampDelta: -64, key: '', value: '', headers: { '': '' } },
      { offsetDelta: 2 ** 29, timestampDelta: 2 ** 30 - 1, key: 'k', value: Buffer.alloc(16_384, 7) },
      ...randomRecords(300),
    ];
    for (const [i, record] of records.entries()) {
      const ours = encodeRecord(record);
      expect({ i, bytes: ours?.toString('hex') }).toEqual({ i, bytes: kafkajsRecord(record).buffer.toString('hex') });
    }
  });

  it('leaves to kafkajs what it does not write the same way', () => {
    expect(encodeRecord({ key: 'k', value: 'v', timestampDelta: 2 ** 30 })).toBeUndefined();
    expect(encodeRecord({ key: 'k', value: 'v', offsetDelta: 1.5 })).toBeUndefined();
    expect(encodeRecord({ key: 'k', value: new Uint8Array(2) as Buffer })).toBeUndefined();
    expect(encodeRecord({ key: 'k', value: 'v', headers: { n: 5 } })).toBeUndefined();
    expect(encodeRecord({ key: 'k', value: 'v', headers: { n: [null] } })).toBeUndefined();
  });

  it("is what kafkajs' produce requests use once installed, and the requests are byte for byte the same", async () => {
    const topicData = [
      {
        topic: 'test.subscriptions.v1',
        partitions: [
          {
            partition: 0,
            firstSequence: 7,
            messages: [
              { key: 'sub_1', value: Buffer.from('one'), headers: cloudEventHeaders },
              { key: 'sub_2', value: Buffer.from('two'), headers: { ...cloudEventHeaders, ce_id: 'evt_2' } },
            ],
          },
        ],
      },
    ];
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_796_208_976_913);
    try {
      const encode = async (install: boolean) => {
        let produce: ProduceRequest | undefined;
        let installed: boolean | undefined;
        let swapped: boolean | undefined;
        jest.isolateModules(() => {
          if (install)
            installed = (
              require('../../src/outbox/kafka-record-encoding') as { useFastRecordEncoding(): boolean }
            ).useFastRecordEncoding();
          produce = require(PRODUCE_V3) as ProduceRequest;
          swapped = (require('kafkajs/src/protocol/recordBatch/record/v0') as { fast?: boolean }).fast === true;
        });
        const request = produce!({ acks: -1, timeout: 1000, producerEpoch: 0, topicData });
        return { installed, swapped, bytes: (await request.encode()).buffer.toString('hex') };
      };
      const stock = await encode(false);
      const ours = await encode(true);
      expect(stock.swapped).toBe(false);
      expect(ours).toMatchObject({ installed: true, swapped: true });
      expect(ours.bytes).toBe(stock.bytes);
    } finally {
      now.mockRestore();
    }
  });

  it('changes nothing, and says so, once kafkajs has bound its own encoder to its produce requests', () => {
    jest.isolateModules(() => {
      require(PRODUCE_V3);
      const { useFastRecordEncoding } = require('../../src/outbox/kafka-record-encoding') as {
        useFastRecordEncoding(): boolean;
      };
      expect(useFastRecordEncoding()).toBe(false);
      expect((require('kafkajs/src/protocol/recordBatch/record/v0') as { fast?: boolean }).fast).toBeUndefined();
    });
  });
});
