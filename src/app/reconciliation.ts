import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { notFound } from '../domain/errors';
import type { Payment, Refund } from '../domain/payment';
import type { Storefront } from '../domain/storefront';
import type { Subscription } from '../domain/subscription';
import type { Clock } from '../ports/clock.port';
import type { ProviderCheckoutState } from '../ports/provider-adapter.port';
import type { Repositories, UnitOfWork } from '../ports/store.port';
import type { ProviderEventApplier, EventOrigin } from './provider-events';
import type { ProviderConnection, ProviderGateway } from './provider-gateway';
import { applySubscriptionState, ChangeSource } from './subscription-changes';

export interface ReconciliationOptions {
  /** Rows looked at per kind and sweep. */
  batchSize: number;
  /** A refund still PENDING this long after it was requested (or last checked) is asked about. */
  refundCheckAfterMs: number;
  /** How long before asking again about a checkout the provider still calls open, or a row whose check failed. */
  recheckAfterMs: number;
  /** Bound on each provider call a sweep makes. */
  providerTimeoutMs: number;
}

export interface SweepReport {
  checkouts: number;
  payments: number;
  refunds: number;
  failures: number;
}

const tracer = trace.getTracer('billing-adapter/reconciler');
const ACTOR = 'system:reconciler';

/**
 * Catches up with what the provider knows but never told us. Webhooks are the fast path; this is the safety net:
 * - a subscription checkout past its expiry: expired at the provider with nothing bought → INCOMPLETE_EXPIRED
 *   (`billing.subscription.expired`); completed but its webhooks lost → the provider's subscription is applied;
 * - a one-time payment checkout past its expiry: closed, or caught up when it was paid;
 * - a refund still PENDING a while after it was requested: settled from the provider's refund.
 * One transaction per row, so one bad row never holds back the others; a failed row is asked about again later.
 */
export class Reconciliation {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly gateway: ProviderGateway,
    private readonly applier: ProviderEventApplier,
    private readonly clock: Clock,
    private readonly options: ReconciliationOptions,
    private readonly logger: Logger,
    /** Told about every row looked at (metrics). */
    private readonly observe: (kind: string, outcome: 'checked' | 'failed') => void = () => undefined,
  ) {}

  async sweep(): Promise<SweepReport> {
    const now = this.clock.now();
    const report: SweepReport = { checkouts: 0, payments: 0, refunds: 0, failures: 0 };
    const reads = this.uow.reads;
    const { batchSize } = this.options;
    for (const { id } of await reads.subscriptions.listOpenCheckoutsExpiredBefore(now, batchSize)) {
      const settled = await this.attempt(
        'subscription',
        id,
        () => this.settleSubscriptionCheckout(id),
        async (repos) => {
          const s = await repos.subscriptions.get(id, { forUpdate: true });
          if (s?.status === 'INCOMPLETE') await this.recheckLater(repos, s, 'postponed');
        },
      );
      if (settled) report.checkouts++;
      else report.failures++;
    }
    for (const { id } of await reads.payments.listOpenCheckoutsExpiredBefore(now, batchSize)) {
      const settled = await this.attempt(
        'payment',
        id,
        () => this.settlePaymentCheckout(id),
        async (repos) => {
          const p = await repos.payments.get(id, { forUpdate: true });
          if (p?.status === 'REQUIRES_PAYMENT_METHOD') await this.recheckPaymentLater(repos, p, 'postponed');
        },
      );
      if (settled) report.payments++;
      else report.failures++;
    }
    const refundsBefore = new Date(now.getTime() - this.options.refundCheckAfterMs);
    for (const { id } of await reads.refunds.listPendingUnchangedSince(refundsBefore, batchSize)) {
      const settled = await this.attempt(
        'refund',
        id,
        () => this.settleRefund(id),
        async (repos) => {
          const r = await repos.refunds.get(id, { forUpdate: true });
          if (r?.status === 'PENDING') await this.touchRefund(repos, r, 'postponed');
        },
      );
      if (settled) report.refunds++;
      else report.failures++;
    }
    return report;
  }

  /**
   * Runs one row's check in its own span. On failure it logs and pushes the row's next check back, so a row the
   * provider keeps failing on does not sit at the head of every sweep.
   */
  private async attempt(
    kind: string,
    id: string,
    work: () => Promise<string>,
    postpone: (repos: Repositories) => Promise<void>,
  ): Promise<boolean> {
    return tracer.startActiveSpan(`reconcile.${kind}`, { attributes: { 'billing.resource_id': id } }, async (span) => {
      try {
        const outcome = await work();
        this.logger.info({ kind, id, outcome }, 'reconciled');
        this.observe(kind, 'checked');
        return true;
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        this.logger.warn({ kind, id, err: error }, 'reconciliation failed; will ask again later');
        this.observe(kind, 'failed');
        await this.uow
          .transaction(postpone)
          .catch((e: unknown) => this.logger.warn({ kind, id, err: e }, 'could not postpone the next check'));
        return false;
      } finally {
        span.end();
      }
    });
  }

  private async settleSubscriptionCheckout(id: string): Promise<string> {
    return this.uow.transaction(async (repos) => {
      const subscription = await repos.subscriptions.get(id, { forUpdate: true });
      if (!subscription || subscription.status !== 'INCOMPLETE') return 'settled meanwhile';
      const { connection, origin, source } = await this.connect(repos, subscription.storefrontId, subscription);
      const checkout = await this.checkoutState(connection, subscription.checkoutSessionRef);
      if (checkout?.status === 'OPEN') return this.recheckLater(repos, subscription, 'checkout still open');

      // Complete, expired, or the provider cannot say: whatever the provider holds for this order decides.
      let current = subscription;
      if (checkout?.subscriptionRef && !current.providerRef) {
        current = { ...current, providerRef: checkout.subscriptionRef };
        await repos.subscriptions.update(current);
      }
      const notes: string[] = [];
      // A completed checkout whose webhooks never came: catch up its first payment and invoice too, so their events
      // are not lost (a first payment that succeeded also activates the subscription, as its webhook would).
      if (checkout?.paymentRef)
        notes.push(...(await this.catchUpPayment(repos, connection, origin, source, checkout.paymentRef)));
      const caughtUp = (await repos.subscriptions.get(id))!;
      if (caughtUp.status === 'INCOMPLETE') {
        notes.push(await this.applier.reconcile(repos, origin, caughtUp, source, 'checkout expired'));
      }
      const outcome = notes.join('; ');
      const after = (await repos.subscriptions.get(id))!;
      if (after.status !== 'INCOMPLETE') return outcome;
      if (checkout?.status === 'COMPLETE') return this.recheckLater(repos, after, 'complete; no subscription yet');

      const now = this.clock.now();
      const { result } = await applySubscriptionState(
        repos,
        origin.storefront,
        after,
        { status: 'INCOMPLETE_EXPIRED', cancelAtPeriodEnd: false, endedAt: now },
        source,
        now,
      );
      return `checkout expired: ${result.outcome}`;
    });
  }

  private async settlePaymentCheckout(id: string): Promise<string> {
    return this.uow.transaction(async (repos) => {
      const payment = await repos.payments.get(id, { forUpdate: true });
      if (!payment || payment.status !== 'REQUIRES_PAYMENT_METHOD') return 'settled meanwhile';
      const { connection, origin, source } = await this.connect(repos, payment.storefrontId, payment);
      const checkout = await this.checkoutState(connection, payment.checkoutSessionRef);
      if (checkout?.status === 'OPEN') return this.recheckPaymentLater(repos, payment, 'checkout still open');
      const paymentRef = checkout?.paymentRef ?? payment.providerRef;
      if (paymentRef) {
        const notes = await this.catchUpPayment(repos, connection, origin, source, paymentRef);
        if ((await repos.payments.get(id))!.status !== 'REQUIRES_PAYMENT_METHOD') return notes.join('; ');
      }
      if (checkout?.status === 'COMPLETE') return this.recheckPaymentLater(repos, payment, 'complete; not paid yet');
      // Nothing was paid and nothing can be any more. No billing.* type exists for an abandoned checkout, so this
      // is a state change only (readable through GetPayment / ListPayments).
      await repos.payments.update({ ...payment, status: 'CLOSED', updatedAt: this.clock.now() });
      await repos.audit.record({
        ...source,
        action: 'CheckoutExpired',
        resourceType: 'payment',
        resourceId: payment.id,
        storefrontId: payment.storefrontId,
        details: { provider: payment.provider },
      });
      return 'checkout expired: payment CLOSED';
    });
  }

  private async settleRefund(id: string): Promise<string> {
    return this.uow.transaction(async (repos) => {
      const refund = await repos.refunds.get(id, { forUpdate: true });
      if (!refund || refund.status !== 'PENDING') return 'settled meanwhile';
      const payment = await repos.payments.get(refund.paymentId);
      if (!payment) throw notFound('payment', refund.paymentId);
      if (!refund.providerRef) return this.touchRefund(repos, refund, 'no provider reference');
      const { connection, origin, source } = await this.connect(repos, payment.storefrontId, payment);
      if (!connection.adapter.operations?.getRefund) return this.touchRefund(repos, refund, 'provider cannot tell');
      const state = await connection.operation('getRefund')(connection.ctx, refund.providerRef);
      if (state.status === 'PENDING') return this.touchRefund(repos, refund, 'still pending at the provider');
      const outcome = state.status === 'SUCCEEDED' ? 'succeeded' : 'failed';
      return this.applier.applyRefund(repos, origin, state, outcome, source);
    });
  }

  /** Applies a checkout's payment (and its invoice, once paid) as the provider now reports them. */
  private async catchUpPayment(
    repos: Repositories,
    connection: ProviderConnection,
    origin: EventOrigin,
    source: ChangeSource,
    paymentRef: string,
  ): Promise<string[]> {
    const ops = connection.adapter.operations;
    if (!ops?.getPayment) return [];
    const payment = await connection.operation('getPayment')(connection.ctx, paymentRef);
    const notes = [await this.applier.applyPayment(repos, origin, payment, source)];
    if (payment.invoiceRef && ops.getInvoice) {
      const invoice = await connection.operation('getInvoice')(connection.ctx, payment.invoiceRef);
      if (invoice.status === 'PAID')
        notes.push(await this.applier.applyInvoice(repos, origin, invoice, 'paid', source));
    }
    return notes;
  }

  private async connect(
    repos: Repositories,
    storefrontId: string,
    pinned: Pick<Subscription | Payment, 'provider'>,
  ): Promise<{ connection: ProviderConnection; origin: EventOrigin; source: ChangeSource }> {
    const storefront: Storefront | undefined = await repos.storefronts.get(storefrontId);
    if (!storefront) throw notFound('storefront', storefrontId);
    const correlationId = randomUUID();
    const connection = await this.gateway.connect(repos, storefront, pinned.provider, {
      signal: AbortSignal.timeout(this.options.providerTimeoutMs),
    });
    return {
      connection,
      origin: { provider: pinned.provider, storefront, correlationId },
      source: { actor: ACTOR, correlationId },
    };
  }

  private async checkoutState(
    connection: ProviderConnection,
    sessionRef: string | undefined,
  ): Promise<ProviderCheckoutState | undefined> {
    const getCheckout = connection.adapter.operations?.getCheckout;
    return sessionRef && getCheckout
      ? getCheckout.call(connection.adapter.operations, connection.ctx, sessionRef)
      : undefined;
  }

  private async recheckLater(repos: Repositories, subscription: Subscription, why: string): Promise<string> {
    await repos.subscriptions.update({ ...subscription, checkoutExpiresAt: this.later() });
    return why;
  }

  private async recheckPaymentLater(repos: Repositories, payment: Payment, why: string): Promise<string> {
    await repos.payments.update({ ...payment, checkoutExpiresAt: this.later() });
    return why;
  }

  private async touchRefund(repos: Repositories, refund: Refund, why: string): Promise<string> {
    await repos.refunds.update({ ...refund, updatedAt: this.clock.now() });
    return why;
  }

  private later(): Date {
    return new Date(this.clock.now().getTime() + this.options.recheckAfterMs);
  }
}
