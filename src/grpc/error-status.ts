import { Metadata, status } from '@grpc/grpc-js';
import { DomainError, ErrorCode } from '../domain/errors';

/** The one table from domain error codes to gRPC status codes. */
export const GRPC_STATUS: Record<ErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  ABORTED: status.ABORTED,
  UNAVAILABLE: status.UNAVAILABLE,
  UNIMPLEMENTED: status.UNIMPLEMENTED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
};

export interface StatusError {
  code: status;
  details: string;
  metadata: Metadata;
}

/**
 * A domain error becomes its status with its message; the first broken field travels in `error-field` metadata so
 * clients can highlight it. Anything else is INTERNAL: logged by the caller, never leaked.
 */
export function toStatusError(error: unknown, correlationId: string): StatusError {
  const metadata = new Metadata();
  metadata.set('correlation-id', correlationId);
  if (error instanceof DomainError) {
    metadata.set('error-code', error.code);
    const first = error.violations[0];
    if (first) {
      metadata.set('error-field', first.field);
      metadata.set('error-rule', first.rule);
    }
    return { code: GRPC_STATUS[error.code], details: error.message, metadata };
  }
  return { code: status.INTERNAL, details: `internal error (correlation id ${correlationId})`, metadata };
}

export function isExpectedError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
