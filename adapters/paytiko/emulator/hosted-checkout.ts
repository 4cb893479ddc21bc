import { nothingAt } from '../../kit/emulator/errors';
import { declineCheckout, payCheckout } from './checkout-payment';
import type { EmulatorContext } from './context';
import { ProblemError } from './problems';
import type { MembershipRecord, SessionRecord } from './records';

/** A live session of this kind; 404 for an unknown token, 410 once it has expired. */
export function liveSession(ctx: EmulatorContext, token: string, kind: SessionRecord['kind']): SessionRecord {
  const session = ctx.state.sessions.get(token);
  if (!session || session.kind !== kind) throw nothingAt(`token: no ${kind} session '${token.slice(0, 64)}'`);
  if (session.expiresAt <= ctx.state.now) throw new ProblemError(410, 'Session has expired');
  return session;
}

/** What the hosted checkout's buttons do: pay (activate) or decline (a Rejected transaction). */
export function completeCheckout(
  ctx: EmulatorContext,
  token: string,
  outcome: 'pay' | 'decline',
): { session: SessionRecord; membership: MembershipRecord } {
  const session = liveSession(ctx, token, 'checkout');
  const membership = session.membershipKey === null ? undefined : ctx.state.memberships.get(session.membershipKey);
  if (!membership) throw nothingAt(`token: the session's membership is gone`);
  if (outcome === 'pay') payCheckout(ctx, membership);
  else declineCheckout(ctx, membership);
  ctx.changed();
  return { session, membership };
}
