import type * as grpc from '@grpc/grpc-js';
import { service as healthDefinition } from 'grpc-health-check';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

type Watcher = (status: ServingStatus) => void;

/**
 * grpc.health.v1 for a fixed set of service names. Written here rather than taken from grpc-health-check's
 * HealthImplementation, which kept a watcher entry for every name any caller asked to Watch (the health service needs
 * no key) and never deleted it: a name of 1 MiB, 1 KB on the wire gzipped, held a megabyte per call until the process
 * ran out of heap. Here only the served names are ever remembered; Watch of any other name answers SERVICE_UNKNOWN
 * once and holds the stream open as the protocol says, keeping nothing but the stream.
 */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<Watcher>>();

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

  addToServer(server: grpc.Server): void {
    server.addService(healthDefinition as unknown as grpc.ServiceDefinition, {
      check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const status = this.statuses.get(call.request.service);
        if (status) callback(null, { status });
        else callback({ code: 5 /* NOT_FOUND */, details: 'unknown service' });
      },
      watch: (call: grpc.ServerWritableStream<{ service: string }, unknown>) => {
        const name = call.request.service;
        const watchers = this.watchers.get(name);
        if (!watchers) {
          call.write({ status: 'SERVICE_UNKNOWN' });
          return;
        }
        const watcher: Watcher = (status) => call.write({ status });
        watchers.add(watcher);
        call.on('cancelled', () => watchers.delete(watcher));
        call.write({ status: this.statuses.get(name) });
      },
      list: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
        callback(null, {
          statuses: Object.fromEntries([...this.statuses].map(([name, status]) => [name, { status }])),
        }),
    });
  }
}
