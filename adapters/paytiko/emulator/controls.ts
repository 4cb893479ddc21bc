import { integer } from '../../kit/emulator/body-readers';
import { type ControlHandler, contextControls } from '../../kit/emulator/controls';
import { nothingAt } from '../../kit/emulator/errors';
import { type Route, route } from '../../kit/emulator/router';
import { advanceClock } from './billing-engine';
import type { EmulatorContext } from './context';
import { completeCheckout } from './hosted-checkout';
import { membershipJson } from './wire';

type Handler = ControlHandler<EmulatorContext>;

const checkoutOutcome =
  (outcome: 'pay' | 'decline'): Handler =>
  ({ ctx, params }) => {
    const { membership } = completeCheckout(ctx, params.token ?? '', outcome);
    return { membershipKey: membership.key, status: membership.status, outcome };
  };

const revokeTokens: Handler = ({ ctx }) => {
  const revoked = ctx.state.tokens.size;
  ctx.state.tokens.clear();
  return { revoked };
};

const tokenTtl: Handler = ({ ctx, body }) => {
  const seconds = integer(body.seconds, 'seconds', 1, 366 * 86_400);
  ctx.state.tokenTtlSeconds = seconds;
  return { seconds };
};

// The record as stored (bigint money as decimal strings via the wire shape, plus what only the emulator keeps).
const storedMembership: Handler = ({ ctx, params }) => {
  const m = ctx.state.memberships.get(params.key ?? '');
  if (!m) throw nothingAt(`key: membership '${(params.key ?? '').slice(0, 64)}' not found`);
  return {
    ...membershipJson(m),
    merchant: m.merchant,
    webhookUrl: m.webhookUrl,
    cycle: m.cycle,
    chargeEmitterQueue: m.chargeQueue,
    dunning: m.dunning,
    credits_minor: m.credits.toString(),
  };
};

/** The standard controls plus Paytiko's own (wire contract "Emulator-only controls"). */
// Declared before the standard ones: `/__emulator/webhooks/{id}` would otherwise take `undeliverable` for an id.
export const controlRoutes: Route<Handler>[] = [
  route('GET', '/__emulator/webhooks/undeliverable', ({ ctx }) => ctx.webhooks.undeliverable()),
  route('POST', '/__emulator/checkout/{token}/pay', checkoutOutcome('pay')),
  route('POST', '/__emulator/checkout/{token}/decline', checkoutOutcome('decline')),
  route('POST', '/__emulator/tokens/revoke', revokeTokens),
  route('POST', '/__emulator/tokens/ttl', tokenTtl),
  route('GET', '/__emulator/memberships/{key}', storedMembership),
  ...contextControls<EmulatorContext>(advanceClock),
];
