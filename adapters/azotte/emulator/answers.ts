import { EmulatorError } from '../../kit/emulator/errors';

/** Every documented messageCode and the HTTP status the emulator answers it with (item 12, one table). */
export const MESSAGE_CODE_STATUS: Readonly<Record<string, number>> = {
  SUCCESS: 200,
  BAD_REQUEST: 400,
  INVALID_REQUEST: 400,
  CUSTOMER_NOT_FOUND: 404,
  CUSTOMER_ALREADY_STORED: 409,
  USER_WITH_SAME_EMAIL_EXISTS: 409,
  USER_WITH_SAME_PHONE_NUMBER_EXISTS: 409,
  SQL_DATABASE_FAILURE: 500,
  INTERNAL_SERVER_ERROR: 500,
  NO_OFFER_FOUND: 404,
  INVALID_PROMOTION_CODE: 400,
  STOREFRONT_NOT_FOUND: 404,
  OFFER_EXPIRED: 409,
  OFFER_NOT_PURCHASABLE: 409,
  CHECK_OUT_PROCESSING: 202,
  CHECK_OUT_3DS_REQUIRED: 200,
  CHECK_OUT_DONE: 200,
  CHECK_OUT_FAILED: 200,
  ORDERED_ITEM_NOT_FOUND: 404,
  PAYMENT_METHOD_NOT_FOUND: 404,
  CARD_DECLINED: 402,
  INVALID_CARD: 400,
  PSP_UNAVAILABLE: 503,
  SUBSCRIPTION_NOT_FOUND: 404,
  SUBSCRIPTION_NOT_CANCELABLE: 409,
  SUBSCRIPTION_NOT_REACTIVATABLE: 409,
};

/** One `errors` item of an INVALID_REQUEST: the camelCase JSON path of the request and what is wrong. */
export interface FieldError {
  field: string;
  message: string;
}

/** A refusal answered in Azotte's envelope; the HTTP status comes from the table. */
export class AzotteError extends Error {
  constructor(
    readonly messageCode: string,
    message: string,
    readonly errors: FieldError[] = [],
    /** Payload fields sent beside `status` (e.g. `result` with CUSTOMER_ALREADY_STORED, item 16). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AzotteError';
  }

  get httpStatus(): number {
    return MESSAGE_CODE_STATUS[this.messageCode] ?? 500;
  }
}

/** INVALID_REQUEST naming the fields. */
export function invalidRequest(errors: FieldError[]): AzotteError {
  return new AzotteError('INVALID_REQUEST', 'The request is invalid', errors);
}

/** INVALID_REQUEST on one field. */
export function invalidField(field: string, message: string): AzotteError {
  return invalidRequest([{ field, message }]);
}

/** A reply: HTTP status, JSON body, extra headers. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** `{status: {messageCode: SUCCESS}, ...payload}` with 200 (or `status`). */
export function success(payload: Record<string, unknown> = {}, status = 200): Reply {
  return { status, body: { ...payload, status: { messageCode: 'SUCCESS', message: 'Success' } } };
}

/** The envelope for any error: Azotte's own, or a kit 400 turned into INVALID_REQUEST naming its field. */
export function errorReply(error: unknown): Reply {
  const azotte = toAzotteError(error);
  const status: Record<string, unknown> = { messageCode: azotte.messageCode, message: azotte.message };
  if (azotte.errors.length > 0) status.errors = azotte.errors;
  return { status: azotte.httpStatus, body: { ...azotte.extra, status } };
}

function toAzotteError(error: unknown): AzotteError {
  if (error instanceof AzotteError) return error;
  if (error instanceof EmulatorError) {
    if (error.status === 400) {
      const match = /^([\w.[\]-]+): (.*)$/s.exec(error.message);
      // A body that is not a JSON object is a malformed request; a broken field is an invalid one.
      if (!match || match[1] === 'body') return new AzotteError('BAD_REQUEST', error.message);
      return invalidField(match[1] ?? 'body', match[2] ?? error.message);
    }
    return new AzotteError(error.status === 404 ? 'NOT_FOUND' : 'INTERNAL_SERVER_ERROR', error.message);
  }
  return new AzotteError('INTERNAL_SERVER_ERROR', 'An unexpected error occurred');
}
