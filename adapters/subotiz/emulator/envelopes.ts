import { EmulatorError } from '../../kit/emulator/errors';
import { ApiError, codeForStatus } from './errors';

/** A reply as sent: status and serialized body (kept for Request-Id replay). */
export interface StoredReply {
  status: number;
  body: string;
}

/** The success envelope. */
export function successBody(data: unknown): string {
  return JSON.stringify({ code: 'success', message: 'success', data });
}

/** Subotiz's error envelope for an ApiError or a kit error (status kept), or a 500 for anything unexpected. */
export function errorReply(error: unknown): StoredReply {
  if (error instanceof ApiError) {
    return { status: error.status, body: JSON.stringify({ code: error.code, message: error.message }) };
  }
  if (error instanceof EmulatorError) {
    return {
      status: error.status,
      body: JSON.stringify({ code: codeForStatus(error.status), message: error.message }),
    };
  }
  return { status: 500, body: JSON.stringify({ code: 'internalError', message: `internal error: ${String(error)}` }) };
}
