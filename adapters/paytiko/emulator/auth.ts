import type { IncomingHttpHeaders } from 'node:http';
import { constantTimeEqual } from '../../kit/signatures';
import { rfc3339 } from '../../kit/emulator/clock';
import type { Body } from '../../kit/emulator/http-io';
import type { EmulatorContext } from './context';
import { newToken } from './ids';
import { unauthorized } from './problems';
import type { PaytikoEmulatorMerchant } from './types';

/** POST auth: the merchant's user name and password → a bearer token with its expiry. */
export function issueToken(ctx: EmulatorContext, body: Body): { token: string; expiresAt: string | null } {
  const userName = typeof body.userName === 'string' ? body.userName : '';
  const password = typeof body.password === 'string' ? body.password : '';
  const merchant = ctx.state.merchants.get(userName);
  if (!merchant || !constantTimeEqual(password, merchant.password)) throw unauthorized();
  // Every auth adds a token: the expired ones go now, so the map (and the state file) stays as small as the live set.
  ctx.state.pruneExpiredTokens();
  const expiresAt = ctx.state.now + ctx.state.tokenTtl(merchant) * 1000;
  const token = newToken(merchant.userName, expiresAt);
  ctx.state.tokens.set(token, { merchant: merchant.userName, expiresAt });
  return { token, expiresAt: rfc3339(expiresAt) };
}

/** The merchant whose live token the `Authorization: Bearer` header carries; 401 otherwise. */
export function authenticate(ctx: EmulatorContext, headers: IncomingHttpHeaders): PaytikoEmulatorMerchant {
  const header = headers.authorization;
  const token = typeof header === 'string' ? /^Bearer (\S+)$/i.exec(header)?.[1] : undefined;
  const record = token === undefined ? undefined : ctx.state.tokens.get(token);
  if (!token || !record) throw unauthorized();
  if (record.expiresAt <= ctx.state.now) {
    ctx.state.tokens.delete(token);
    throw unauthorized();
  }
  const merchant = ctx.state.merchants.get(record.merchant);
  if (!merchant) throw unauthorized();
  return merchant;
}
