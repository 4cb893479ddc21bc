import type { Body } from '../../kit/emulator/http-io';
import type { Reply } from './answers';
import type { EmulatorContext } from './context';
import type { AzotteEmulatorTenant } from './types';

/** One authenticated C2A call. */
export interface ApiRequest {
  ctx: EmulatorContext;
  tenant: AzotteEmulatorTenant;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Body;
}

export type ApiHandler = (request: ApiRequest) => Reply;

/** Every C2A route is below this (item 1). */
export const C2A = '/api/v1/c2a';
