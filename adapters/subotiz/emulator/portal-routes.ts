import { randomBytes } from 'node:crypto';
import type { ApiHandler } from './api-request';
import { invalidParameter } from './errors';
import { route } from '../../kit/emulator/router';
import { requiredString } from './validation';

const PORTAL_LINK_MS = 30 * 60 * 1000;

/** `POST /api/v1/customer-portal/auth`: a customer portal link valid for 30 minutes of wall-clock time. */
const portalAuth: ApiHandler = ({ ctx, merchant, body }) => {
  const customerId = requiredString(body, 'customer_id', 64);
  if (!ctx.state.owned(ctx.state.customers, customerId, merchant.accessNo)) {
    throw invalidParameter('customer_id', `customer '${customerId}' not found`);
  }
  const token = randomBytes(16).toString('hex');
  ctx.state.portalLinks.set(token, { customerId, expiresAt: Date.now() + PORTAL_LINK_MS });
  return { customer_portal_link: `${ctx.baseUrl}/portal/${token}` };
};

/** Customer portal endpoint. */
export const portalRoutes = [route('POST', '/api/v1/customer-portal/auth', portalAuth)];
