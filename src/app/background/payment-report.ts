import type { ProviderInvoiceState, ProviderPaymentState } from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
import { AskedFirst, SubscriptionAnswers } from '../inbound/subscription-answers';
import type { ProviderConnection } from '../providers/provider-gateway';
import type { SweepDeps, SweepLink } from './sweep';

/** What the provider said about a checkout's payment, fetched before any row is locked. */
export interface PaymentReport {
  payment: ProviderPaymentState;
  /** Only a paid one: that is what renews or activates. */
  invoice?: ProviderInvoiceState;
}

/** A checkout's payment, and its invoice once paid, as the provider reports them now. */
export async function fetchPaymentReport(
  connection: ProviderConnection,
  paymentRef: string,
): Promise<PaymentReport | undefined> {
  const getPayment = connection.optional('getPayment');
  const getInvoice = connection.optional('getInvoice');
  if (!getPayment) return undefined;
  const payment = await getPayment(connection.ctx, paymentRef);
  const invoice = payment.invoiceRef && getInvoice ? await getInvoice(connection.ctx, payment.invoiceRef) : undefined;
  return { payment, invoice: invoice?.status === 'PAID' ? invoice : undefined };
}

/**
 * Applies a payment report as its webhooks would have been (a first payment that succeeded also activates its
 * subscription, with the state in `answers`: the sweep asked for it before locking).
 */
export async function applyPaymentReport(
  deps: SweepDeps,
  repos: Repositories,
  link: SweepLink,
  report: PaymentReport,
  answers: SubscriptionAnswers = AskedFirst.of(),
): Promise<string[]> {
  const { origin, source } = link;
  const notes = [await deps.applier.applyPayment(repos, origin, report.payment, source, answers)];
  if (report.invoice) {
    notes.push(await deps.applier.applyInvoice(repos, origin, report.invoice, 'paid', source, answers));
  }
  return notes;
}
