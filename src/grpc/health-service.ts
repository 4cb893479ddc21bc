import type * as grpc from '@grpc/grpc-js';
import { service as healthDefinition } from 'grpc-health-check';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

type Watcher = (status: ServingStatus) => void;
interface HealthRequest {
  service: string;
}

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
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly streams = new Set<grpc.ServerWritableStream<HealthRequest, unknown>>();

  constructor(names: readonly string[]) {
    for (const name of names) {
      this.statuses.set(name, 'NOT_SERVING');
      this.watchers.set(name, new Set());
    }
  }

  /** Sets a served name's status and tells its watchers when it changed. */
  setStatus(name: string, status: ServingStatus): void {
    const watchers = this.watchers.get(name);
    if (!watchers) throw new Error(`health: ${name} is not a served name`);
    if (this.statuses.get(name) === status) return;
    this.statuses.set(name, status);
    for (const watcher of watchers) watcher(status);
  }

  /**
   * Ends every Watch stream (shutting down): a Watch never ends by itself, and the server's graceful shutdown waits
   * for every stream, so one watcher anywhere held each shutdown for its whole grace period.
   */
  close(): void {
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    for (const watchers of this.watchers.values()) watchers.clear();
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
        else callback({ code: 5 /* NOT_FOUND */, details: 'unknown service' });
      },
      watch: (call: grpc.ServerWritableStream<HealthRequest, unknown>) => this.watch(call),
      list: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
        callback(null, {
          statuses: Object.fromEntries([...this.statuses].map(([name, status]) => [name, { status }])),
        }),
    });
  }

  private watch(call: grpc.ServerWritableStream<HealthRequest, unknown>): void {
    this.streams.add(call);
    const watchers = this.watchers.get(call.request.service);
    if (!watchers) {
      call.on('cancelled', () => this.streams.delete(call));
      call.write({ status: 'SERVICE_UNKNOWN' });
      return;
    }
    const watcher: Watcher = (status) => call.write({ status });
    watchers.add(watcher);
    call.on('cancelled', () => {
      watchers.delete(watcher);
      this.streams.delete(call);
    });
    call.write({ status: this.statuses.get(call.request.service) });
  }

  private known(request: HealthRequest): HealthRequest {
    return this.statuses.has(request?.service) ? request : UNSERVED;
  }
}
