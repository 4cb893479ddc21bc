import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { unauthorized } from './errors';
import type { EmulatorState } from './state';
import type { EmulatorMerchant } from './types';

const TOLERANCE_MS = 300_000;

/** The request as auth sees it: method, path with query exactly as sent, headers and the raw body. */
export interface SignedRequest {
  method: string;
  pathAndQuery: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
}

/**
 * The merchant a request authenticates as: `Authorization: Bearer <api_key>`, or Hub-* headers signed with the
 * merchant's access_secret over `METHOD\nPATH+QUERY\nTIMESTAMP\nBODY\n`. Timestamps are checked against the wall
 * clock (what the caller signs with), not the emulator clock, which tests move at will.
 */
export function authenticate(state: EmulatorState, request: SignedRequest): EmulatorMerchant {
  const authorization = header(request.headers, 'authorization');
  if (authorization !== undefined) {
    const match = /^Bearer (.+)$/.exec(authorization);
    const merchant = match?.[1] ? state.merchantByApiKey(match[1]) : undefined;
    if (!merchant) throw unauthorized('ApiKey authentication is required');
    return merchant;
  }
  const accessNo = header(request.headers, 'hub-access-no');
  const timestamp = header(request.headers, 'hub-timestamp');
  const signature = header(request.headers, 'hub-signature');
  if (accessNo === undefined || timestamp === undefined || signature === undefined) {
    throw unauthorized('ApiKey authentication is required');
  }
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() - Number(timestamp)) > TOLERANCE_MS) {
    throw unauthorized('Hub-Timestamp: timestamp out of range');
  }
  const merchant = state.merchants.get(accessNo);
  // An unknown access number gets the same answer as a wrong secret: nothing to tell a prober apart.
  if (!merchant) throw unauthorized('Hub-Signature: signature mismatch');
  const body = request.method === 'GET' ? '' : request.rawBody;
  const payload = `${request.method}\n${request.pathAndQuery}\n${timestamp}\n${body}\n`;
  const expected = createHmac('sha256', merchant.accessSecret).update(payload).digest();
  // Lower-case hex only, as documented; Buffer.from(…, 'hex') would silently stop at the first bad character.
  if (!/^[0-9a-f]{64}$/.test(signature) || !timingSafeEqual(Buffer.from(signature, 'hex'), expected)) {
    throw unauthorized('Hub-Signature: signature mismatch');
  }
  return merchant;
}

/** A header's single value. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
