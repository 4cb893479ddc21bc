import type { EmulatorContext } from './context';
import type { EmulatorMerchant } from './types';
import type { Body } from './validation';

/** An authenticated API call as its handler sees it. */
export interface ApiRequest {
  ctx: EmulatorContext;
  merchant: EmulatorMerchant;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON for POSTs; `{}` for GETs. */
  body: Body;
}

/** Answers `data` for the success envelope, or throws an ApiError. Synchronous: state never changes mid-request. */
export type ApiHandler = (request: ApiRequest) => unknown;
