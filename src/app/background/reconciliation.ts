import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { notFound } from '../../domain/errors';
import type { Clock } from '../../ports/clock.port';
import type {
  ProviderCheckoutState,
  ProviderInvoiceState,
  ProviderPaymentState,
} from '../../ports/provider-adapter.port';
import type { Repositories, UnitOfWork } from '../../ports/store.port';
import type { EventOrigin, ProviderEventApplier } from '../inbound/provider-events';
import type { ProviderConnection, ProviderGateway } from '../providers/provider-gateway';
import { applySubscriptionState, ChangeSource } from '../engine/subscription-changes';

export interface ReconciliationOptions {
  /** Rows looked at per kind and sweep. */
  batchSize: number;
  /** A refund still PENDING this long after it was requested (or last asked about) is asked about again. */
  refundCheckAfterMs: number;
  /** When a checkout is still open at the provider, or its check failed: how long before asking again. */
  recheckAfterMs: number;
  /** Bound on all provider calls made for one row. */
  providerTimeoutMs: number;
}

type Kind = 'subscription' | 'payment' | 'refund';

/** What the provider said about a checkout's payment, fetched before any row is locked. */
interface PaymentReport {
  payment: ProviderPaymentState;
  invoice?: ProviderInvoiceState;
}

const tracer = trace.getTracer('billing-adapter/reconciler');
const ACTOR = 'system:reconciler';

/**
 * Catches up with what the provider knows but never told us. Webhooks are the fast path; this is the safety net:
 * - a subscription checkout past its expiry: expired at the provider with nothing bought → INCOMPLETE_EXPIRED
 *   (`billing.subscription.expired`); completed but its webhooks lost → its payment, invoice and subscription are
 *   applied as their webhooks would have been;
 * - a one-time payment checkout past its expiry: CLOSED once the provider says the checkout expired unpaid, or
 *   caught up when it was paid;
 * - a refund still PENDING a while after it was requested: settled from the provider's refund.
 *
 * Per row: ask the provider first, outside any transaction (no lock is held across those HTTP calls), then lock
 * the row with SKIP LOCKED (replicas share the work; a row settled meanwhile is skipped) and apply in one
 * transaction. The exception is the subscription fetch inside `ProviderEventApplier.reconcile`, which, as for
 * webhooks, happens under the lock. A row whose check fails is asked about again after `recheckAfterMs`.
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
    private readonly observe: (kind: Kind, outcome: 'checked' | 'failed') => void = () => undefined,
  ) {}

  /** One pass over every kind; stops between rows once `signal` aborts (shutdown). Returns the rows looked at. */
  async sweep(signal?: AbortSignal): Promise<number> {
    const now = this.clock.now();
    const { batchSize, refundCheckAfterMs } = this.options;
    const refundsCheckedBefore = new Date(now.getTime() - refundCheckAfterMs);
    const reads = this.uow.reads;
    const work: [Kind, string[], (id: string) => Promise<string>, (id: string) => Promise<void>][] = [
      [
        'subscription',
        await reads.subscriptions.listDueForReconciliation(now, batchSize),
        (id) => this.settleSubscriptionCheckout(id, now, signal),
        (id) => reads.subscriptions.scheduleReconciliation(id, this.later()),
      ],
      [
        'payment',
        await reads.payments.listDueForReconciliation(now, batchSize),
        (id) => this.settlePaymentCheckout(id, now, signal),
        (id) => reads.payments.scheduleReconciliation(id, this.later()),
      ],
      [
        'refund',
        await reads.refunds.listDueForReconciliation(refundsCheckedBefore, batchSize),
        (id) => this.settleRefund(id, refundsCheckedBefore, signal),
        (id) => reads.refunds.markChecked(id, this.clock.now()),
      ],
    ];
    let looked = 0;
    for (const [kind, ids, settle, postpone] of work) {
      for (const id of ids) {
        if (signal?.aborted) return looked;
        await this.attempt(kind, id, () => settle(id), postpone);
        looked++;
      }
    }
    return looked;
  }

  /** One row's check in its own span; a failure is logged and the row asked about again later, not next sweep. */
  private async attempt(
    kind: Kind,
    id: string,
    settle: () => Promise<string>,
    postpone: (id: string) => Promise<void>,
  ): Promise<void> {
    await tracer.startActiveSpan(`reconcile.${kind}`, { attributes: { 'billing.resource_id': id } }, async (span) => {
      try {
        const outcome = await settle();
        this.observe(kind, 'checked');
        this.logger.info({ kind, id, outcome }, 'reconciled');
      } catch (error) {
        this.observe(kind, 'failed');
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        this.logger.warn({ kind, id, err: error }, 'reconciliation failed; will ask again later');
        await postpone(id).catch((e: unknown) => this.logger.warn({ kind, id, err: e }, 'could not postpone'));
      } finally {
        span.end();
      }
    });
  }

  private async settleSubscriptionCheckout(id: string, now: Date, signal?: AbortSignal): Promise<string> {
    const seen = await this.uow.reads.subscriptions.get(id);
    if (!seen || seen.status !== 'INCOMPLETE') return 'settled meanwhile';
    const link = await this.connect(this.uow.reads, seen.storefrontId, seen.provider, signal);
    const checkout = await this.checkoutState(link.connection, seen.checkoutSessionRef);
    const paid =
      checkout?.paymentRef && checkout.status !== 'OPEN'
        ? await this.paymentReport(link.connection, checkout.paymentRef)
        : undefined;

    return this.uow.transaction(async (repos) => {
      let subscription = await repos.subscriptions.lockDueForReconciliation(id, now);
      if (!subscription) return 'settled meanwhile, or taken by another replica';
      if (checkout?.status === 'OPEN') return this.subscriptionLater(repos, id, 'checkout still open');

      if (checkout?.subscriptionRef && !subscription.providerRef) {
        subscription = { ...subscription, providerRef: checkout.subscriptionRef };
        await repos.subscriptions.update(subscription);
      }
      const notes = paid ? await this.applyPaymentReport(repos, link.origin, link.source, paid) : [];
      // A first payment that succeeded has reconciled the subscription already; otherwise ask for it now.
      const afterPayment = (await repos.subscriptions.get(id))!;
      if (afterPayment.status === 'INCOMPLETE') {
        notes.push(
          await this.applier.reconcile(
            repos,
            link.origin,
            afterPayment,
            link.source,
            'checkout expired',
            link.connection,
          ),
        );
      }
      const current = (await repos.subscriptions.get(id))!;
      if (current.status !== 'INCOMPLETE') return notes.join('; ');
      if (checkout?.status === 'COMPLETE') return this.subscriptionLater(repos, id, 'complete; no subscription yet');
      if (paid?.payment.status === 'PROCESSING') return this.subscriptionLater(repos, id, 'payment still processing');

      // Expired at the provider, nothing bought, nothing in flight: the checkout is over.
      const at = this.clock.now();
      const { result } = await applySubscriptionState(
        repos,
        link.origin.storefront,
        current,
        { status: 'INCOMPLETE_EXPIRED', cancelAtPeriodEnd: false, endedAt: at },
        link.source,
        at,
      );
      return `checkout expired: ${result.outcome}`;
    });
  }

  private async settlePaymentCheckout(id: string, now: Date, signal?: AbortSignal): Promise<string> {
    const seen = await this.uow.reads.payments.get(id);
    if (!seen || seen.status !== 'REQUIRES_PAYMENT_METHOD') return 'settled meanwhile';
    const link = await this.connect(this.uow.reads, seen.storefrontId, seen.provider, signal);
    const checkout = await this.checkoutState(link.connection, seen.checkoutSessionRef);
    const paymentRef = checkout?.paymentRef ?? seen.providerRef;
    const paid =
      paymentRef && checkout?.status !== 'OPEN' ? await this.paymentReport(link.connection, paymentRef) : undefined;

    return this.uow.transaction(async (repos) => {
      const payment = await repos.payments.lockDueForReconciliation(id, now);
      if (!payment) return 'settled meanwhile, or taken by another replica';
      if (checkout?.status === 'OPEN') return this.paymentLater(repos, id, 'checkout still open');
      if (paid) {
        const notes = await this.applyPaymentReport(repos, link.origin, link.source, {
          ...paid,
          payment: { ...paid.payment, orderId: payment.id },
        });
        if ((await repos.payments.get(id))!.status !== 'REQUIRES_PAYMENT_METHOD') return notes.join('; ');
      }
      // Closed only on the provider's word that the checkout expired, and with no charge in flight: CLOSED is final.
      if (checkout?.status !== 'EXPIRED' || paid?.payment.status === 'PROCESSING') {
        return this.paymentLater(repos, id, `checkout ${checkout?.status ?? 'state unknown'}; not paid yet`);
      }
      // No billing.* type exists for an abandoned checkout: a state change only (GetPayment / ListPayments).
      await repos.payments.update({ ...payment, status: 'CLOSED', updatedAt: this.clock.now() });
      await repos.audit.record({
        ...link.source,
        action: 'CheckoutExpired',
        resourceType: 'payment',
        resourceId: payment.id,
        storefrontId: payment.storefrontId,
        details: { provider: payment.provider },
      });
      return 'checkout expired: payment CLOSED';
    });
  }

  private async settleRefund(id: string, checkedBefore: Date, signal?: AbortSignal): Promise<string> {
    const seen = await this.uow.reads.refunds.get(id);
    if (!seen || seen.status !== 'PENDING') return 'settled meanwhile';
    const payment = await this.uow.reads.payments.get(seen.paymentId);
    if (!payment) throw notFound('payment', seen.paymentId);
    const link = await this.connect(this.uow.reads, payment.storefrontId, payment.provider, signal);
    const getRefund = link.connection.optional('getRefund');
    const state = seen.providerRef && getRefund ? await getRefund(link.connection.ctx, seen.providerRef) : undefined;

    return this.uow.transaction(async (repos) => {
      // Payment before refund: the order a refund webhook locks them in.
      await repos.payments.get(payment.id, { forUpdate: true });
      const refund = await repos.refunds.lockDueForReconciliation(id, checkedBefore);
      if (!refund) return 'settled meanwhile, or taken by another replica';
      if (!state || state.status === 'PENDING') {
        await repos.refunds.markChecked(id, this.clock.now());
        return state ? 'still pending at the provider' : 'the provider cannot tell';
      }
      const outcome = state.status === 'SUCCEEDED' ? 'succeeded' : 'failed';
      return this.applier.applyRefund(repos, link.origin, state, outcome, link.source);
    });
  }

  /** A checkout's payment, and its invoice once paid, as the provider reports them now. */
  private async paymentReport(connection: ProviderConnection, paymentRef: string): Promise<PaymentReport | undefined> {
    const getPayment = connection.optional('getPayment');
    const getInvoice = connection.optional('getInvoice');
    if (!getPayment) return undefined;
    const payment = await getPayment(connection.ctx, paymentRef);
    const invoice = payment.invoiceRef && getInvoice ? await getInvoice(connection.ctx, payment.invoiceRef) : undefined;
    return { payment, invoice: invoice?.status === 'PAID' ? invoice : undefined };
  }

  /** Applies a payment report as its webhooks would have been (a first payment that succeeded also activates). */
  private async applyPaymentReport(
    repos: Repositories,
    origin: EventOrigin,
    source: ChangeSource,
    report: PaymentReport,
  ): Promise<string[]> {
    const notes = [await this.applier.applyPayment(repos, origin, report.payment, source)];
    if (report.invoice) notes.push(await this.applier.applyInvoice(repos, origin, report.invoice, 'paid', source));
    return notes;
  }

  private async connect(
    repos: Repositories,
    storefrontId: string,
    provider: string,
    signal?: AbortSignal,
  ): Promise<{ connection: ProviderConnection; origin: EventOrigin; source: ChangeSource }> {
    const storefront = await repos.storefronts.get(storefrontId);
    if (!storefront) throw notFound('storefront', storefrontId);
    const correlationId = randomUUID();
    const timeout = AbortSignal.timeout(this.options.providerTimeoutMs);
    const connection = await this.gateway.connect(repos, storefront, provider, {
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    return {
      connection,
      origin: { provider, storefront, correlationId },
      source: { actor: ACTOR, correlationId },
    };
  }

  /** The checkout's state, or undefined when there is no session or the provider cannot report one. */
  private async checkoutState(
    connection: ProviderConnection,
    sessionRef: string | undefined,
  ): Promise<ProviderCheckoutState | undefined> {
    const getCheckout = connection.optional('getCheckout');
    return sessionRef && getCheckout ? getCheckout(connection.ctx, sessionRef) : undefined;
  }

  private async subscriptionLater(repos: Repositories, id: string, why: string): Promise<string> {
    await repos.subscriptions.scheduleReconciliation(id, this.later());
    return why;
  }

  private async paymentLater(repos: Repositories, id: string, why: string): Promise<string> {
    await repos.payments.scheduleReconciliation(id, this.later());
    return why;
  }

  private later(): Date {
    return new Date(this.clock.now().getTime() + this.options.recheckAfterMs);
  }
}
