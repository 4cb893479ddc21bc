import * as grpc from '@grpc/grpc-js';
import { service as healthDefinition } from 'grpc-health-check';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

interface HealthRequest {
  service: string;
}
type WatchStream = grpc.ServerWritableStream<HealthRequest, unknown>;

/** What a request naming no served service decodes to: one shared object, whatever name was sent. */
const UNSERVED: HealthRequest = Object.freeze({ service: '\u0000unserved' });

/**
 * grpc.health.v1 for a fixed set of service names. Written here rather than taken from grpc-health-check's
 * HealthImplementation, which kept a watcher entry for every name any caller asked to Watch (the health service needs
 * no key) and never deleted it: a name of 1 MiB, 1 KB on the wire gzipped, held a megabyte per call until the process
 * ran out of heap. Here a request naming any other service decodes to one shared placeholder, so neither a finished
 * nor an open call keeps the name (grpc-js holds a streaming call's request while the stream is open). Watch of such
 * a name answers SERVICE_UNKNOWN once and holds the stream open, as the protocol says.
 */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  /** Every open Watch and the name it watches (the placeholder's for a name not served: no status reaches it). */
  private readonly watching = new Map<WatchStream, string>();

  constructor(names: readonly string[]) {
    for (const name of names) this.statuses.set(name, 'NOT_SERVING');
  }

  /** Sets a served name's status and tells its watchers when it changed. */
  setStatus(name: string, status: ServingStatus): void {
    if (!this.statuses.has(name)) throw new Error(`health: ${name} is not a served name`);
    if (this.statuses.get(name) === status) return;
    this.statuses.set(name, status);
    for (const [stream, watched] of this.watching) if (watched === name) stream.write({ status });
  }

  /**
   * Ends every Watch stream (shutting down): a Watch never ends by itself, and the server's graceful shutdown waits
   * for every stream, so one watcher anywhere held each shutdown for its whole grace period.
   */
  close(): void {
    for (const stream of this.watching.keys()) stream.end();
    this.watching.clear();
  }

  addToServer(server: grpc.Server): void {
    const definition = healthDefinition as unknown as Record<string, grpc.MethodDefinition<HealthRequest, unknown>>;
    const served: Record<string, grpc.MethodDefinition<HealthRequest, unknown>> = {};
    for (const [name, method] of Object.entries(definition)) {
      served[name] = { ...method, requestDeserialize: (bytes) => this.known(method.requestDeserialize(bytes)) };
    }
    server.addService(served, {
      check: (call: grpc.ServerUnaryCall<HealthRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const status = this.statuses.get(call.request.service);
        if (status) callback(null, { status });
        else callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      },
      watch: (call: WatchStream) => {
        const name = call.request.service;
        this.watching.set(call, name);
        call.on('cancelled', () => this.watching.delete(call));
        call.write({ status: this.statuses.get(name) ?? 'SERVICE_UNKNOWN' });
      },
      list: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
        callback(null, {
          statuses: Object.fromEntries([...this.statuses].map(([name, status]) => [name, { status }])),
        }),
    });
  }

  private known(request: HealthRequest): HealthRequest {
    return this.statuses.has(request?.service) ? request : UNSERVED;
  }
}
