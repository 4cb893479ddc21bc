/** Stable error codes of the domain; the transport maps each to one status (see grpc/error-status.ts). */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'UNAVAILABLE'
  | 'UNIMPLEMENTED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'DEADLINE_EXCEEDED'
  /** The caller's own share is used up (its tenant's calls in flight); not the service's capacity. */
  | 'RESOURCE_EXHAUSTED';

/** One broken rule on one input field. */
export interface Violation {
  field: string;
  rule: string;
}

/** An error the caller can act on. Carries no transport detail; keeps its cause. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly violations: Violation[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DomainError';
  }
}

/** INVALID_ARGUMENT naming every broken field and rule. */
export function invalidArgument(violations: Violation[]): DomainError {
  const message = violations.map((v) => `${v.field}: ${v.rule}`).join('; ');
  return new DomainError('INVALID_ARGUMENT', message, violations);
}

/** NOT_FOUND; with `field`, names the request field that pointed at the missing thing. */
export function notFound(kind: string, id: string, field?: string): DomainError {
  const message = `${kind} '${id}' not found`;
  return new DomainError(
    'NOT_FOUND',
    field ? `${field}: ${message}` : message,
    field ? [{ field, rule: message }] : [],
  );
}

export function alreadyExists(message: string): DomainError {
  return new DomainError('ALREADY_EXISTS', message);
}

export function failedPrecondition(message: string): DomainError {
  return new DomainError('FAILED_PRECONDITION', message);
}

export function unimplemented(message: string): DomainError {
  return new DomainError('UNIMPLEMENTED', message);
}

export function unavailable(message: string, cause?: unknown): DomainError {
  return new DomainError('UNAVAILABLE', message, [], { cause });
}
