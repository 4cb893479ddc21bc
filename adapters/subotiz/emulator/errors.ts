/** Subotiz's error codes (README "Envelopes"). */
export type ErrorCode =
  'invalidParameter' | 'unauthorizedError' | 'notFound' | 'invalidState' | 'internalError' | 'serviceUnavailable';

/** An error answered as HTTP `status` with `{"code","message"}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** 400 whose message starts with the field: `line_items[0].price_id: price 'x' not found`. */
export function invalidParameter(field: string, rule: string): ApiError {
  return new ApiError(400, 'invalidParameter', `${field}: ${rule}`);
}

/** 404 for an id in the path that this merchant cannot see. */
export function notFound(field: string, kind: string, id: string): ApiError {
  return new ApiError(404, 'notFound', `${field}: ${kind} '${id}' not found`);
}

/** 409: the operation is not allowed in the object's status. */
export function invalidState(message: string): ApiError {
  return new ApiError(409, 'invalidState', message);
}

/** 401 with one of the README's messages. */
export function unauthorized(message: string): ApiError {
  return new ApiError(401, 'unauthorizedError', message);
}

/** The error code Subotiz pairs with an HTTP status (used by injected faults). */
export function codeForStatus(status: number): ErrorCode {
  if (status === 400) return 'invalidParameter';
  if (status === 401 || status === 403) return 'unauthorizedError';
  if (status === 404) return 'notFound';
  if (status === 409) return 'invalidState';
  if (status === 503 || status === 502 || status === 504) return 'serviceUnavailable';
  return 'internalError';
}
