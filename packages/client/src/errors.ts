import { Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';

/** What a failed call reports: its status, the service's trailers, and whether retrying it with the same key is safe. */
export interface BillingErrorFields {
  code: Status;
  details: string;
  /** The full gRPC path, e.g. `/billing.v1.CustomerService/CreateCustomer`. */
  method: string;
  field?: string;
  rule?: string;
  errorCode?: string;
  correlationId?: string;
}

/**
 * A failed call of the billing API. Carries the service's own trailers (`error-code`, `error-field`, `error-rule`,
 * `correlation-id`), never the request's metadata: the API key must not travel into logs with an error.
 */
export class BillingError extends Error {
  readonly code: Status;
  /** The status's name, e.g. `INVALID_ARGUMENT`. */
  readonly status: string;
  readonly details: string;
  readonly method: string;
  /** The first bad field (INVALID_ARGUMENT), by its path in the request: `email`, `address.line1`. */
  readonly field?: string;
  readonly rule?: string;
  /** The service's domain code (trailer `error-code`). */
  readonly errorCode?: string;
  /** Ties the error to the service's log and audit rows. */
  readonly correlationId?: string;
  /** True when a retry with the same idempotency key is safe and may succeed. */
  readonly retryable: boolean;

  constructor(fields: BillingErrorFields) {
    const status = statusName(fields.code);
    // One line: callers log these, and a multi-line message splits a log record.
    super(`${status}: ${fields.details.replace(/\s*[\r\n]+\s*/g, ' ')}`);
    this.name = new.target.name;
    this.code = fields.code;
    this.status = status;
    this.details = fields.details;
    this.method = fields.method;
    this.field = fields.field;
    this.rule = fields.rule;
    this.errorCode = fields.errorCode;
    this.correlationId = fields.correlationId;
    this.retryable = isRetryable(fields.code, fields.method);
  }
}

export class InvalidArgumentError extends BillingError {}
export class NotFoundError extends BillingError {}
export class AlreadyExistsError extends BillingError {}
export class FailedPreconditionError extends BillingError {}
export class PermissionDeniedError extends BillingError {}
export class UnauthenticatedError extends BillingError {}
export class ResourceExhaustedError extends BillingError {}
export class AbortedError extends BillingError {}
export class UnavailableError extends BillingError {}
export class DeadlineExceededError extends BillingError {}
export class UnimplementedError extends BillingError {}
export class InternalError extends BillingError {}
export class CancelledError extends BillingError {}

/** The subclass for each status the service answers with; any other status is a plain BillingError. */
const ERROR_CLASSES: Partial<Record<Status, new (fields: BillingErrorFields) => BillingError>> = {
  [Status.INVALID_ARGUMENT]: InvalidArgumentError,
  [Status.NOT_FOUND]: NotFoundError,
  [Status.ALREADY_EXISTS]: AlreadyExistsError,
  [Status.FAILED_PRECONDITION]: FailedPreconditionError,
  [Status.PERMISSION_DENIED]: PermissionDeniedError,
  [Status.UNAUTHENTICATED]: UnauthenticatedError,
  [Status.RESOURCE_EXHAUSTED]: ResourceExhaustedError,
  [Status.ABORTED]: AbortedError,
  [Status.UNAVAILABLE]: UnavailableError,
  [Status.DEADLINE_EXCEEDED]: DeadlineExceededError,
  [Status.UNIMPLEMENTED]: UnimplementedError,
  [Status.INTERNAL]: InternalError,
  [Status.CANCELLED]: CancelledError,
};

/** The typed error for `fields.code`. */
export function billingError(fields: BillingErrorFields): BillingError {
  const ErrorClass = ERROR_CLASSES[fields.code] ?? BillingError;
  return new ErrorClass(fields);
}

/** A grpc-js error of a call to `method` (its full path) as the typed error, with the service's trailers read. */
export function toBillingError(
  error: Pick<ServiceError, 'code' | 'details' | 'metadata'>,
  method: string,
): BillingError {
  const trailers = error.metadata ?? new Metadata();
  return billingError({
    code: error.code,
    details: error.details ?? '',
    method,
    field: trailer(trailers, 'error-field'),
    rule: trailer(trailers, 'error-rule'),
    errorCode: trailer(trailers, 'error-code'),
    correlationId: trailer(trailers, 'correlation-id'),
  });
}

/**
 * Whether the RPC changes state. Reads are named Get…, List… or Check… (a whole word: `Checkout…` is not one);
 * every other RPC is a mutation, takes an idempotency key, and is the only kind for which ABORTED (the same key
 * still in flight) is worth a retry.
 */
export function isMutation(method: string): boolean {
  const name = method.slice(method.lastIndexOf('/') + 1);
  return !/^(Get|List|Check)[A-Z]/.test(name);
}

/**
 * UNAVAILABLE is safe to retry for every RPC (the service says so); ABORTED only for a mutation, where it means the
 * first attempt with the same key is still running and a retry will replay its answer.
 */
function isRetryable(code: Status, method: string): boolean {
  return code === Status.UNAVAILABLE || (code === Status.ABORTED && isMutation(method));
}

function statusName(code: Status): string {
  return Status[code] ?? `STATUS_${code}`;
}

function trailer(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return value === undefined ? undefined : value.toString();
}
