import { Metadata, status } from '@grpc/grpc-js';
import { DomainError, ErrorCode } from '../domain/errors';
import { safeText, TEXT_LIMITS } from './safe-text';

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
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
};

export interface StatusError {
  code: status;
  details: string;
  metadata: Metadata;
}

/**
 * A domain error becomes its status with its message; the first broken field travels in `error-field` metadata so
 * clients can highlight it. Anything else is INTERNAL: logged by the caller, never leaked. Every text goes through
 * `safeText`: caller values and provider messages may hold anything, and grpc-js throws on non-ASCII metadata.
 */
export function toStatusError(error: unknown, correlationId: string): StatusError {
  const metadata = new Metadata();
  metadata.set('correlation-id', safeText(correlationId, TEXT_LIMITS.field));
  if (error instanceof DomainError) {
    const code = GRPC_STATUS[error.code] ?? status.INTERNAL;
    metadata.set('error-code', safeText(error.code, TEXT_LIMITS.field));
    const first = error.violations[0];
    if (first) {
      metadata.set('error-field', safeText(first.field, TEXT_LIMITS.field));
      metadata.set('error-rule', safeText(first.rule, TEXT_LIMITS.rule));
    }
    return { code, details: safeText(error.message, TEXT_LIMITS.details), metadata };
  }
  return { code: status.INTERNAL, details: internalDetails(correlationId), metadata };
}

/** The last resort when even building a status failed: a fixed, plain answer. */
export function fallbackStatusError(): StatusError {
  return { code: status.INTERNAL, details: 'internal error', metadata: new Metadata() };
}

function internalDetails(correlationId: string): string {
  return safeText(`internal error (correlation id ${correlationId})`, TEXT_LIMITS.details);
}

export function isExpectedError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
