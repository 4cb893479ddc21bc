import { failedPrecondition, invalidArgument, notFound } from '../../domain/errors';
import { newId } from '../../domain/ids';
import { formatDecimal, Money, MoneyInput, resolveMoney } from '../../domain/money';
import { refundsTotal, type Payment, type Refund } from '../../domain/payment';
import { Validator } from '../../domain/validation';
import type { Clock } from '../../ports/clock.port';
import type { UnitOfWork } from '../../ports/store.port';
import type { ProviderRefundState } from '../../ports/provider-adapter.port';
import type { CallContext, PendingEffect } from '../call-context';
import { effectOf, recordEffect } from './pending-effects';
import { pageOf, readPage } from './pagination';
import type { ProviderGateway } from '../providers/provider-gateway';

/**
 * Payments, invoices and refunds. Payments and invoices are written by provider events; refunds start here and
 * are settled by the provider's refund webhook (events `refund.succeeded` and `payment.refunded` come from there).
 */
export class PaymentUseCases {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly gateway: ProviderGateway,
    private readonly clock: Clock,
  ) {}

  async getPayment(id: string): Promise<Payment> {
    const payment = id ? await this.uow.reads.payments.get(id) : undefined;
    if (!payment) throw notFound('payment', id, 'payment_id');
    return payment;
  }

  async listPayments(
    filter: { storefrontId: string; customerId: string; subscriptionId: string },
    pageSize: number,
    pageToken: string,
  ) {
    if (!filter.storefrontId && !filter.customerId && !filter.subscriptionId) {
      throw invalidArgument([
        { field: 'storefront_id', rule: 'one of storefront_id, customer_id, subscription_id is required' },
      ]);
    }
    const page = readPage(pageSize, pageToken);
    const items = await this.uow.reads.payments.list(
      {
        storefrontId: filter.storefrontId || undefined,
        customerId: filter.customerId || undefined,
        subscriptionId: filter.subscriptionId || undefined,
      },
      { size: page.size + 1, afterId: page.after },
    );
    return pageOf(items, page, (p) => p.id);
  }

  async createRefund(
    input: { paymentId: string; amount?: MoneyInput; reason: string },
    ctx: CallContext,
  ): Promise<Refund> {
    new Validator().required('payment_id', input.paymentId).maxLength('reason', input.reason, 500).check();
    const payment = await this.getPayment(input.paymentId);
    if (payment.status !== 'SUCCEEDED' || !payment.providerRef) {
      throw failedPrecondition(
        `payment '${payment.id}' is ${payment.status}: only a succeeded payment can be refunded`,
      );
    }
    const storefront = (await this.uow.reads.storefronts.get(payment.storefrontId))!;
    const connection = await this.gateway.connect(this.uow.reads, storefront, payment.provider, ctx);
    const refund = connection.operation('refund');

    // A refund cannot be undone: it is recorded before the provider is asked, and a retry that finds it resumes it. Its
    // amount was checked when it was recorded; the provider may have refunded it since, so it is not checked again.
    const { effect, resumed } = effectOf(ctx, 'refund', () => ({ subjectId: newId('ref') }));
    const amount = resumed ? recordedAmount(effect) : await this.refundableAmount(payment, input.amount);
    let state: ProviderRefundState;
    if (resumed && effect.providerRef) {
      state = await connection.operation('getRefund')(connection.ctx, effect.providerRef);
    } else {
      if (!resumed) await recordEffect(ctx, { ...effect, detail: amountDetail(amount) });
      // A resumed refund whose answer was lost goes out with the same provider idempotency (e.g. a Request-Id):
      // the provider answers with the refund it made, and makes no second one.
      state = await refund(connection.ctx, {
        refundId: effect.subjectId,
        // The order the provider knows the payment by: its subscription's, or the one-time payment's own.
        payment: { ref: payment.providerRef, orderId: payment.subscriptionId ?? payment.id },
        amount,
        reason: input.reason,
      });
      await recordEffect(ctx, { ...effect, detail: amountDetail(amount), providerRef: state.ref });
    }
    return this.uow.transaction(async (repos) => {
      // The payment is locked first, as the refund webhook's processing locks it: the two cannot both find no refund
      // and both record one. Known already when the webhook came first: one refund, ours or the webhook's.
      await repos.payments.get(payment.id, { forUpdate: true });
      const known = await repos.refunds.findByProviderRef(payment.id, state.ref);
      if (known) return known;
      const now = this.clock.now();
      const created: Refund = {
        id: effect.subjectId,
        paymentId: payment.id,
        amount,
        reason: input.reason,
        status: 'PENDING',
        providerRef: state.ref,
        createdAt: now,
        updatedAt: now,
      };
      await repos.refunds.insert(created);
      await repos.audit.record({
        ...ctx,
        action: 'CreateRefund',
        resourceType: 'refund',
        resourceId: created.id,
        storefrontId: payment.storefrontId,
        details: { payment_id: payment.id, amount_minor: amount.amountMinor.toString(), currency: amount.currency },
      });
      return created;
    }, ctx);
  }

  /** The amount to refund (the whole remainder when none is given), checked against what is left to refund. */
  private async refundableAmount(payment: Payment, requested: MoneyInput | undefined): Promise<Money> {
    const refunds = await this.uow.reads.refunds.listOfPayment(payment.id, { size: 10_000 });
    const pending = refundsTotal(refunds, 'PENDING');
    const refundable = payment.amount.amountMinor - payment.refundedMinor - pending;
    const amount = requested ? resolveMoney(requested, 'amount') : { ...payment.amount, amountMinor: refundable };
    checkRefundAmount(amount, payment, refundable);
    return amount;
  }

  async getRefund(id: string): Promise<Refund> {
    const refund = id ? await this.uow.reads.refunds.get(id) : undefined;
    if (!refund) throw notFound('refund', id, 'refund_id');
    return refund;
  }

  async listRefunds(paymentId: string, pageSize: number, pageToken: string) {
    await this.getPayment(paymentId);
    const page = readPage(pageSize, pageToken);
    const items = await this.uow.reads.refunds.listOfPayment(paymentId, { size: page.size + 1, afterId: page.after });
    return pageOf(items, page, (r) => r.id);
  }

  async getInvoice(id: string) {
    const invoice = id ? await this.uow.reads.invoices.get(id) : undefined;
    if (!invoice) throw notFound('invoice', id, 'invoice_id');
    return invoice;
  }

  async listInvoices(filter: { subscriptionId: string; customerId: string }, pageSize: number, pageToken: string) {
    if (!filter.subscriptionId && !filter.customerId) {
      throw invalidArgument([{ field: 'subscription_id', rule: 'subscription_id or customer_id is required' }]);
    }
    const page = readPage(pageSize, pageToken);
    const items = await this.uow.reads.invoices.list(
      { subscriptionId: filter.subscriptionId || undefined, customerId: filter.customerId || undefined },
      { size: page.size + 1, afterId: page.after },
    );
    return pageOf(items, page, (i) => i.id);
  }
}

function amountDetail(amount: Money): Record<string, string> {
  return { amount_minor: amount.amountMinor.toString(), currency: amount.currency };
}

/** The amount an earlier attempt recorded with its refund (always recorded with it, see amountDetail). */
function recordedAmount(effect: PendingEffect): Money {
  const { amount_minor: minor, currency } = effect.detail ?? {};
  if (minor === undefined || currency === undefined) throw new Error(`refund ${effect.subjectId}: no amount recorded`);
  return { currency, amountMinor: BigInt(minor) };
}

function checkRefundAmount(amount: Money, payment: Payment, refundable: bigint): void {
  if (amount.currency !== payment.amount.currency) {
    throw invalidArgument([
      { field: 'amount.currency_code', rule: `must be the payment's currency ${payment.amount.currency}` },
    ]);
  }
  if (refundable <= 0n) throw failedPrecondition(`payment '${payment.id}' has nothing left to refund`);
  if (amount.amountMinor <= 0n) throw invalidArgument([{ field: 'amount', rule: 'must be greater than zero' }]);
  if (amount.amountMinor > refundable) {
    throw invalidArgument([
      {
        field: 'amount',
        rule: `must be at most the refundable ${formatDecimal(refundable, payment.amount.currency)} ${payment.amount.currency}`,
      },
    ]);
  }
}
