import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import v8 from 'node:v8';
import vm from 'node:vm';
import { HealthService } from '../../src/grpc/health-service';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { startTestService, TestService } from '../support/test-service';

type WatchClient = grpc.Client & {
  watch(request: { service: string }): grpc.ClientReadableStream<{ status: string }>;
  check(
    request: { service: string },
    callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
  ): void;
};

const definition = protoLoader.loadSync(healthProtoPath, { enums: String });
const Health = (grpc.loadPackageDefinition(definition) as any).grpc.health.v1.Health; // eslint-disable-line @typescript-eslint/no-explicit-any

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

/** grpc.health.v1 needs no key, so what it keeps must not depend on what callers ask. */
describe('gRPC health', () => {
  let db: TestDatabase;
  let service: TestService;
  let client: WatchClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url });
    client = new Health(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure()) as WatchClient;
  });
  afterAll(async () => {
    client?.close();
    await service?.close();
    await db?.drop();
  });

  /** The first status a Watch of `name` answers; the stream is cancelled after it. */
  const firstWatched = (name: string) =>
    new Promise<string>((resolve, reject) => {
      const stream = client.watch({ service: name });
      stream.once('data', (message: { status: string }) => {
        resolve(message.status);
        stream.cancel();
      });
      stream.on('error', (error: grpc.ServiceError) => {
        if (error.code !== grpc.status.CANCELLED) reject(error);
      });
    });

  it('answers Check and Watch for the served names, and SERVICE_UNKNOWN or NOT_FOUND for others', async () => {
    expect(await firstWatched('')).toBe('SERVING');
    expect(await firstWatched('billing.v1.SubscriptionService')).toBe('SERVING');
    expect(await firstWatched('no.such.Service')).toBe('SERVICE_UNKNOWN');
    const check = (name: string) =>
      new Promise<string>((resolve) =>
        client.check({ service: name }, (error, response) =>
          resolve(error ? grpc.status[error.code] : response!.status),
        ),
      );
    expect(await check('billing.v1.CustomerService')).toBe('SERVING');
    expect(await check('no.such.Service')).toBe('NOT_FOUND');
  });

  it('keeps nothing for the names callers watch, while their watches are open or after', async () => {
    const heap = () => {
      collectGarbage();
      return process.memoryUsage().heapUsed;
    };
    const before = heap();
    const open: grpc.ClientReadableStream<{ status: string }>[] = [];
    for (let i = 0; i < 100; i++) {
      const stream = client.watch({ service: `${i}-${'x'.repeat(1_000_000)}` });
      stream.on('error', () => undefined);
      expect(await new Promise((resolve) => stream.once('data', (m: { status: string }) => resolve(m.status)))).toBe(
        'SERVICE_UNKNOWN',
      );
      open.push(stream);
    }
    // grpc-js holds a streaming call's request while it is open: the name would be here if it were decoded as sent.
    expect(heap() - before).toBeLessThan(30_000_000);
    for (const stream of open) stream.cancel();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // grpc-health-check's HealthImplementation kept an entry per name: about 100 MB here, a crash at a few thousand.
    expect(heap() - before).toBeLessThan(30_000_000);
  });
});

describe('the health service', () => {
  let server: grpc.Server;
  let health: HealthService;
  let client: WatchClient;

  beforeEach(async () => {
    server = new grpc.Server();
    health = new HealthService(['', 'billing.v1.CustomerService']);
    health.addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    client = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as WatchClient;
  });
  afterEach(() => {
    client.close();
    server.forceShutdown();
  });

  it('tells a watcher the status, then each change and nothing else; close ends the watch so shutdown completes', async () => {
    const seen: string[] = [];
    const stream = client.watch({ service: '' });
    stream.on('data', (m: { status: string }) => seen.push(m.status));
    const ended = new Promise<void>((resolve) => stream.on('end', () => resolve()));
    stream.on('error', () => undefined);
    const until = async (n: number) => {
      while (seen.length < n) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await until(1);
    health.setStatus('', 'SERVING');
    health.setStatus('', 'SERVING');
    health.setStatus('billing.v1.CustomerService', 'SERVING');
    health.setStatus('', 'NOT_SERVING');
    await until(3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toEqual(['NOT_SERVING', 'SERVING', 'NOT_SERVING']);

    // A Watch never ends by itself: without close(), tryShutdown would wait for it forever (the test would time out).
    health.close();
    await ended;
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });
});
