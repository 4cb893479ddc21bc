/**
 * The Kafka publisher's thread (started by `KafkaPublisherThread`): one `KafkaPublisher`, driven by the main
 * thread's requests. kafkajs encoding the record batches is about half of the relay's CPU per event; here it runs
 * on the other core while the main thread reads and marks the outbox.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MessagesRefusedError } from '../ports/event-publisher.port';
import { KafkaPublisher } from './kafka-publisher';
import { Answer, Failure, LogLine, Request, unpackBatch } from './kafka-thread-protocol';

const port = parentPort;
if (!port) throw new Error('kafka-publisher-worker runs as a worker thread (see KafkaPublisherThread)');

const { brokers, clientId } = workerData as { brokers: string[]; clientId: string };
const publisher = new KafkaPublisher({
  brokers,
  clientId,
  log: (level, message, fields) => {
    const line: LogLine = { log: { level, message, fields: jsonOf(fields) } };
    port.postMessage(line);
  },
});

port.on('message', (request: Request) => {
  void answer(request).then((reply) => port.postMessage(reply));
});

async function answer(request: Request): Promise<Answer> {
  try {
    switch (request.op) {
      case 'publish':
        await publisher.publish(unpackBatch(request.batch));
        break;
      case 'ensureTopics':
        await publisher.ensureTopics(request.topics);
        break;
      case 'connect':
        await publisher.connect();
        break;
      case 'probe':
        await publisher.probe();
        break;
      case 'close':
        await publisher.close();
        break;
    }
    return { id: request.id };
  } catch (error) {
    return { id: request.id, failure: failureOf(error) };
  }
}

function failureOf(error: unknown): Failure {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    refused: error instanceof MessagesRefusedError ? error.reason : undefined,
  };
}

/** kafkajs' log fields as JSON: they can hold errors and buffers, which do not all survive cloning. */
function jsonOf(fields: Record<string, unknown>): string {
  try {
    return JSON.stringify(fields);
  } catch {
    return JSON.stringify({ fields: 'not serializable' });
  }
}
