import type { IncomingHttpHeaders } from 'node:http';
import { constantTimeEqual } from '../../kit/signatures';
import type { EmulatorState } from './state';
import type { AzotteEmulatorTenant } from './types';

/** Thrown for a missing or unknown `x-api-key`, a missing `x-tn`, or another tenant's: 401 with an empty body. */
export class Unauthorized extends Error {
  constructor() {
    super('unauthorized');
    this.name = 'Unauthorized';
  }
}

/** The tenant whose API key the call carries, when `x-tn` names that same tenant (item 4). */
export function authenticate(state: EmulatorState, headers: IncomingHttpHeaders): AzotteEmulatorTenant {
  const apiKey = headers['x-api-key'];
  const tenantId = headers['x-tn'];
  if (typeof apiKey !== 'string' || apiKey === '' || typeof tenantId !== 'string' || tenantId === '') {
    throw new Unauthorized();
  }
  const tenant = [...state.tenants.values()].find((t) => constantTimeEqual(apiKey, t.apiKey));
  if (!tenant || tenant.tenant !== tenantId) throw new Unauthorized();
  return tenant;
}
