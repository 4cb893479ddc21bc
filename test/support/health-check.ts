import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

const definition = protoLoader.loadSync(healthProtoPath, { enums: String });
const HealthClient = grpc.makeGenericClientConstructor(
  (grpc.loadPackageDefinition(definition) as any).grpc.health.v1.Health.service, // eslint-disable-line @typescript-eslint/no-explicit-any
  'Health',
);

type HealthCheckClient = grpc.Client & {
  check(
    request: { service: string },
    options: Partial<grpc.CallOptions>,
    callback: (error: grpc.ServiceError | null, response: { status: string }) => void,
  ): void;
};

/** One grpc.health.v1 Check of the whole server (''): SERVING, NOT_SERVING, or UNREACHABLE. */
export async function healthStatus(grpcPort: number): Promise<string> {
  const client = new HealthClient(
    `127.0.0.1:${grpcPort}`,
    grpc.credentials.createInsecure(),
  ) as unknown as HealthCheckClient;
  try {
    return await new Promise<string>((resolve) =>
      client.check({ service: '' }, { deadline: Date.now() + 2000 }, (error, response) =>
        resolve(error ? 'UNREACHABLE' : response.status),
      ),
    );
  } finally {
    client.close();
  }
}
