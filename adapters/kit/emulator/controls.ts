import { integer, oneOf, optionalString } from './body-readers';
import { type EmulatorClock, rfc3339 } from './clock';
import type { EmulatorContextBase } from './emulator-context';
import { nothingAt } from './errors';
import type { ApiFaults, FailNext } from './faults';
import type { Body } from './http-io';
import type { PinnedClock } from './pinned-clock';
import { type Route, route } from './router';
import type { WebhookSender } from './webhook-sender';

/** A test-control call: no auth, plain JSON in and out. */
export interface ControlRequest<C> {
  ctx: C;
  params: Record<string, string>;
  body: Body;
}

/** Answers the control's JSON, or throws an EmulatorError (or the provider's own error). */
export type ControlHandler<C> = (request: ControlRequest<C>) => unknown;

/** What the standard controls work on; every emulator has these. */
export interface StandardControlTarget {
  clock: EmulatorClock;
  /** Moves the clock `ms` on, doing the provider's due work (renewals, trial ends, dunning) on the way. */
  advance(ms: number): void;
  apiFaults: ApiFaults;
  webhooks: WebhookSender;
  /** Charges (renewals, merchant-initiated trades) that will fail. */
  chargeFailures: FailNext;
}

/**
 * The controls every emulator shares, under `/__emulator`: clock (`GET`, `POST /advance`), API faults (5xx,
 * timeouts, lost answers), "fail the next N charges", and webhooks (list, detail, redeliver, drop / duplicate /
 * reorder faults). Provider-specific controls stay in the provider's emulator.
 */
export function standardControls<C>(target: (ctx: C) => StandardControlTarget): Route<ControlHandler<C>>[] {
  const clock: ControlHandler<C> = ({ ctx }) => clockJson(target(ctx).clock);
  const advance: ControlHandler<C> = ({ ctx, body }) => {
    const seconds = integer(body.seconds, 'seconds', 0, 100 * 366 * 86_400);
    target(ctx).advance(seconds * 1000);
    return clockJson(target(ctx).clock);
  };
  const apiFault: ControlHandler<C> = ({ ctx, body }) => {
    const fault = {
      remaining: integer(body.count ?? 1, 'count', 1, 1_000_000),
      status: integer(body.status ?? 503, 'status', 200, 599),
      delayMs: integer(body.delay_ms ?? 0, 'delay_ms', 0, 600_000),
      after: body.after === true,
      path: optionalString(body, 'path', 2048),
    };
    target(ctx).apiFaults.arm(fault);
    return { count: fault.remaining, status: fault.status, delay_ms: fault.delayMs, after: fault.after };
  };
  const clearFaults: ControlHandler<C> = ({ ctx }) => {
    target(ctx).apiFaults.clear();
    target(ctx).chargeFailures.clear();
    return { cleared: true };
  };
  const failCharges: ControlHandler<C> = ({ ctx, body }) => {
    const count = integer(body.count ?? 1, 'count', 0, 1_000_000);
    target(ctx).chargeFailures.arm(count, {
      code: optionalString(body, 'code'),
      message: optionalString(body, 'message', 500),
    });
    return { count };
  };
  const webhookFault: ControlHandler<C> = ({ ctx, body }) => {
    const mode = oneOf(body, 'mode', ['drop', 'duplicate', 'reorder'] as const, 'drop');
    const count = integer(body.count ?? 1, 'count', 1, 1_000_000);
    target(ctx).webhooks.armFault(mode, count);
    return { mode, count };
  };
  const webhookDetail: ControlHandler<C> = ({ ctx, params }) => {
    const event = target(ctx).webhooks.detail(params.id ?? '');
    if (!event) throw nothingAt(`event_id: webhook event '${(params.id ?? '').slice(0, 64)}' not found`);
    return event;
  };
  const redeliver: ControlHandler<C> = ({ ctx, params }) => {
    if (!target(ctx).webhooks.redeliver(params.id ?? '')) {
      throw nothingAt(`event_id: webhook event '${(params.id ?? '').slice(0, 64)}' not found`);
    }
    return { event_id: params.id, queued: true };
  };
  return [
    route('GET', '/__emulator/clock', clock),
    route('POST', '/__emulator/clock/advance', advance),
    route('POST', '/__emulator/faults', apiFault),
    route('POST', '/__emulator/faults/clear', clearFaults),
    route('POST', '/__emulator/charges/fail-next', failCharges),
    route('GET', '/__emulator/webhooks', ({ ctx }) => target(ctx).webhooks.list()),
    route('POST', '/__emulator/webhooks/faults', webhookFault),
    route('GET', '/__emulator/webhooks/faults', ({ ctx }) => target(ctx).webhooks.armedFaults()),
    route('GET', '/__emulator/webhooks/{id}', webhookDetail),
    route('POST', '/__emulator/webhooks/{id}/redeliver', redeliver),
  ];
}

/** `standardControls` for an emulator built on the kit's context: only how it advances its clock is its own. */
export function contextControls<C extends EmulatorContextBase<PinnedClock>>(
  advance: (ctx: C, ms: number) => void,
): Route<ControlHandler<C>>[] {
  return standardControls<C>((ctx) => ({
    clock: ctx.state.clock,
    advance: (ms) => advance(ctx, ms),
    apiFaults: ctx.apiFaults,
    webhooks: ctx.webhooks,
    chargeFailures: ctx.chargeFailures,
  }));
}

function clockJson(clock: EmulatorClock): { now: string | null; offset_seconds: number } {
  return { now: rfc3339(clock.now()), offset_seconds: Math.floor(clock.offset() / 1000) };
}
