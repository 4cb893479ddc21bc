import type { Body } from '../../kit/emulator/http-io';
import type { EmulatorContext } from './context';
import type { PaytikoEmulatorMerchant } from './types';

/** One authenticated API call. */
export interface ApiRequest {
  ctx: EmulatorContext;
  merchant: PaytikoEmulatorMerchant;
  params: Record<string, string>;
  body: Body;
}

/** Answers a status and JSON body, or throws a ProblemError. */
export type ApiHandler = (request: ApiRequest) => { status: number; body: unknown };

export const API = '/api/subscriptions/v1';
