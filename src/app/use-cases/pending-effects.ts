import type { CallContext, PendingEffect } from '../call-context';

/** The provider effect one attempt works on: resumed from an earlier attempt with the same key, or a new one. */
export interface EffectAttempt {
  effect: PendingEffect;
  /** True when an earlier attempt recorded it and may have reached the provider: ask the provider first. */
  resumed: boolean;
}

/**
 * The effect `operation` of this call. An earlier attempt with the same idempotency key (same request: the key
 * guarantees it) that recorded the effect and then failed or died leaves it behind, and this attempt resumes it
 * with the same ids; otherwise `fresh` describes a new one.
 */
export function effectOf(ctx: CallContext, operation: string, fresh: () => Omit<PendingEffect, 'operation'>) {
  const pending = ctx.completion?.pending;
  if (pending?.operation === operation) return { effect: pending, resumed: true } satisfies EffectAttempt;
  return { effect: { operation, ...fresh() }, resumed: false } satisfies EffectAttempt;
}

/**
 * Commits the effect before the provider is asked for it, once every local check has passed; and again with the
 * provider's id once it answered, so a retry can ask about that object. Without an idempotency key there is no
 * retry to resume it, and nothing is recorded.
 */
export async function recordEffect(ctx: CallContext, effect: PendingEffect): Promise<void> {
  await ctx.completion?.begin(effect);
}

/** True when this attempt resumes `operation` from an earlier attempt with the same key. */
export function resuming(ctx: CallContext, operation: string): boolean {
  return ctx.completion?.pending?.operation === operation;
}
