import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import v8 from 'node:v8';
import vm from 'node:vm';
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

  it('keeps nothing for the names callers watch: 100 watches of distinct 1 MB names leave the heap as it was', async () => {
    const heap = () => {
      collectGarbage();
      return process.memoryUsage().heapUsed;
    };
    const before = heap();
    for (let i = 0; i < 100; i++) {
      expect(await firstWatched(`${i}-${'x'.repeat(1_000_000)}`)).toBe('SERVICE_UNKNOWN');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    // grpc-health-check's HealthImplementation kept an entry per name: about 100 MB here, a crash at a few thousand.
    expect(heap() - before).toBeLessThan(30_000_000);
  });
});
