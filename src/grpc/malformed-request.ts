import type * as grpc from '@grpc/grpc-js';
import { invalidArgument } from '../domain/errors';

/** What a request that did not decode becomes, so the RPC wrapper (not grpc-js) answers it. */
export class MalformedRequest {
  constructor(readonly cause: unknown) {}
}

/**
 * The service definition with a deserializer that never throws. grpc-js answers INTERNAL when `requestDeserialize`
 * throws (truncated or invalid protobuf); caught here, the bytes become a `MalformedRequest` the wrapper refuses
 * with INVALID_ARGUMENT.
 */
export function tolerantDecoding<S extends grpc.ServiceDefinition>(definition: S): S {
  const tolerant: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition) as [string, grpc.MethodDefinition<unknown, unknown>][]) {
    tolerant[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error) {
          return new MalformedRequest(error);
        }
      },
    };
  }
  return tolerant as S;
}

/** INVALID_ARGUMENT naming the request message when its bytes did not decode. */
export function refuseMalformed(request: unknown, rpc: string): void {
  if (request instanceof MalformedRequest) {
    throw invalidArgument([{ field: 'request', rule: `is not a valid ${rpc}Request protobuf message` }]);
  }
}
