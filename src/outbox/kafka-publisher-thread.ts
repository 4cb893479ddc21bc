import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { EventPublisher, MessagesRefusedError, OutgoingMessage } from '../ports/event-publisher.port';
import { rateLimitedLog } from '../telemetry/rate-limited-log';
import { Answer, Failure, LogLine, packBatch, Request } from './kafka-thread-protocol';

export interface KafkaPublisherThreadOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
}

type Call = { resolve: () => void; reject: (error: Error) => void; worker: Worker };
/** A request before it is numbered. */
type Ask = WithoutId<Request>;
type WithoutId<R> = R extends unknown ? Omit<R, 'id'> : never;

/**
 * The service's `EventPublisher`: a `KafkaPublisher` on a thread of its own. The relay's one thread used to spend
 * about half its time in kafkajs (encoding records and headers, and their garbage), which bounded the drain; now
 * that runs on the other core while this thread reads, encodes and marks the outbox. Calls keep their meaning: a
 * publish resolves when the broker acknowledged it and rejects with `MessagesRefusedError` on a refusal for good.
 * If the thread dies, its calls fail (the relay retries, as after any failed send) and the next call starts a new
 * one with a new producer.
 */
export class KafkaPublisherThread implements EventPublisher {
  private worker?: Worker;
  private nextId = 1;
  private readonly calls = new Map<number, Call>();
  /** A broker outage or a refused batch repeats the same few kafkajs lines per attempt: once per 10 s is enough. */
  private readonly log: ReturnType<typeof rateLimitedLog>;

  constructor(private readonly options: KafkaPublisherThreadOptions) {
    this.log = rateLimitedLog(options.logger.child({ component: 'kafkajs' }));
  }

  ensureTopics(topics: string[]): Promise<void> {
    return this.ask({ op: 'ensureTopics', topics });
  }

  /** Connects an admin client and lists topics: throws when no broker answers (within kafkajs' retries). */
  probe(): Promise<void> {
    return this.ask({ op: 'probe' });
  }

  connect(): Promise<void> {
    return this.ask({ op: 'connect' });
  }

  publish(messages: OutgoingMessage[]): Promise<void> {
    const batch = packBatch(messages);
    return this.ask({ op: 'publish', batch }, [batch.values]);
  }

  /** Disconnects and ends the thread; a later call starts a new one. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    try {
      await this.ask({ op: 'close' });
    } finally {
      this.worker = undefined;
      await worker.terminate();
    }
  }

  private ask(ask: Ask, transfer: ArrayBuffer[] = []): Promise<void> {
    const worker = this.thread();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      // Held alive only while a call waits on it: an idle publisher never keeps the process from exiting.
      if (this.callsOn(worker) === 0) worker.ref();
      this.calls.set(id, { resolve, reject, worker });
      worker.postMessage({ ...ask, id } as Request, transfer);
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker({ brokers: this.options.brokers, clientId: this.options.clientId });
    worker.unref();
    worker.on('message', (message: Answer | LogLine) => {
      if ('log' in message) return this.logLine(message);
      this.settle(message);
    });
    // An uncaught error in the thread ends it: 'error' comes first, then 'exit'.
    worker.on('error', (error) => this.ended(worker, error));
    worker.on('exit', (code) => this.ended(worker, new Error(`the Kafka publisher's thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private settle({ id, failure }: Answer): void {
    const call = this.calls.get(id);
    if (!call) return;
    this.calls.delete(id);
    if (this.callsOn(call.worker) === 0) call.worker.unref();
    if (failure) call.reject(errorOf(failure));
    else call.resolve();
  }

  /** The thread is gone: what it was asked fails, and the next call starts another. */
  private ended(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = undefined;
    for (const [id, call] of this.calls) {
      if (call.worker !== worker) continue;
      this.calls.delete(id);
      call.reject(error);
    }
  }

  private callsOn(worker: Worker): number {
    let n = 0;
    for (const call of this.calls.values()) if (call.worker === worker) n += 1;
    return n;
  }

  private logLine({ log: { level, message, fields } }: LogLine): void {
    this.log(level, message, JSON.parse(fields) as Record<string, unknown>);
  }
}

/**
 * The thread runs the compiled worker next to this file; from TypeScript sources (`npm start`, tests) it registers
 * tsx first, since Node 20 does not apply `--import tsx` to a worker's entry file.
 */
function startWorker(workerData: { brokers: string[]; clientId: string }): Worker {
  const extension = path.extname(__filename);
  const file = path.join(__dirname, `kafka-publisher-worker${extension}`);
  if (extension !== '.ts') return new Worker(file, { workerData });
  const code = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`;
  return new Worker(code, { eval: true, workerData });
}

function errorOf(failure: Failure): Error {
  const error = failure.refused ? new MessagesRefusedError(failure.refused) : new Error(failure.message);
  if (!failure.refused) error.name = failure.name;
  if (failure.stack) error.stack = failure.stack;
  return error;
}
