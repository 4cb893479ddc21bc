import type { Knex } from 'knex';
import type { CheckoutNextAction, CheckoutSession, CheckoutSessionStatus } from '../domain/checkout-session';
import type { CheckoutSessionRepository } from '../ports/store.port';
import { failureOf } from './payment-repository';
import { asJson, asOptionalDate } from './row-values';

type Row = Record<string, unknown>;

/** Checkout sessions (migration 009). */
export class KnexCheckoutSessionRepository implements CheckoutSessionRepository {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async insert(s: CheckoutSession): Promise<boolean> {
    const inserted = await this.db('checkout_sessions')
      .insert({
        id: s.id,
        storefront_id: s.storefrontId,
        provider: s.provider,
        provider_ref: s.providerRef,
        subscription_id: s.subscriptionId ?? null,
        payment_id: s.paymentId ?? null,
        expires_at: s.expiresAt ?? null,
        created_at: s.createdAt,
        ...columns(s),
      })
      // A replayed checkout names the session its first attempt recorded: that row stays.
      .onConflict(['provider', 'provider_ref'])
      .ignore()
      .returning('id');
    return inserted.length > 0;
  }

  async get(id: string, options?: { forUpdate?: boolean }): Promise<CheckoutSession | undefined> {
    const query = this.db('checkout_sessions').where({ id }).first();
    const row = await (options?.forUpdate ? query.forUpdate() : query);
    return row ? toCheckoutSession(row) : undefined;
  }

  async findByProviderRef(provider: string, ref: string): Promise<CheckoutSession | undefined> {
    const row = await this.db('checkout_sessions').where({ provider, provider_ref: ref }).first();
    return row ? toCheckoutSession(row) : undefined;
  }

  async update(s: CheckoutSession): Promise<void> {
    await this.db('checkout_sessions').where({ id: s.id }).update(columns(s));
  }
}

/** What changes over a session's life. */
function columns(s: CheckoutSession) {
  return {
    status: s.status,
    // jsonb: an object, serialized by us so both drivers store the same thing.
    next_action: s.nextAction ? JSON.stringify(s.nextAction) : null,
    check_at: s.checkAt ?? null,
    failure_code: s.failure?.code ?? null,
    failure_message: s.failure?.message ?? null,
    updated_at: s.updatedAt,
  };
}

function toCheckoutSession(row: Row): CheckoutSession {
  return {
    id: row.id as string,
    storefrontId: row.storefront_id as string,
    provider: row.provider as string,
    providerRef: row.provider_ref as string,
    subscriptionId: (row.subscription_id as string | null) ?? undefined,
    paymentId: (row.payment_id as string | null) ?? undefined,
    status: row.status as CheckoutSessionStatus,
    nextAction: row.next_action ? asJson<CheckoutNextAction>(row.next_action) : undefined,
    expiresAt: asOptionalDate(row.expires_at),
    checkAt: asOptionalDate(row.check_at),
    failure: failureOf(row),
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
  };
}
