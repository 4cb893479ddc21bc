import type * as grpc from '@grpc/grpc-js';
import { invalidArgument } from '../domain/errors';

/**
 * A request's bytes, not decoded yet. grpc-js decodes a request before any of our code runs, and protobuf decoding
 * costs what the sender chooses: a few KB gzipped can hold a packed repeated field of a million entries (the most the
 * 1 MiB a request may take holds), tens of ms of the event loop. Decoding waits until the caller is authenticated
 * and authorized (the `decodeRequest` interceptor), so a caller without a key costs no more than its headers.
 */
export class EncodedRequest {
  constructor(
    readonly bytes: Buffer,
    private readonly decoder: (bytes: Buffer) => unknown,
  ) {}

  /** The decoded message; INVALID_ARGUMENT naming the request when the bytes are not one (never INTERNAL). */
  decode(rpc: string): unknown {
    try {
      return this.decoder(this.bytes);
    } catch {
      throw invalidArgument([{ field: 'request', rule: `is not a valid ${rpc}Request protobuf message` }]);
    }
  }
}

/** The service definition with a deserializer that keeps the bytes for later (see EncodedRequest). */
export function deferredDecoding<S extends grpc.ServiceDefinition>(definition: S): S {
  const deferred: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition) as [string, grpc.MethodDefinition<unknown, unknown>][]) {
    const decoder = method.requestDeserialize;
    deferred[name] = { ...method, requestDeserialize: (bytes: Buffer) => new EncodedRequest(bytes, decoder) };
  }
  return deferred as S;
}

/** `request` decoded if it is still bytes; a decoded request as it is. */
export function decoded(request: unknown, rpc: string): unknown {
  return request instanceof EncodedRequest ? request.decode(rpc) : request;
}
