import type { ProviderInvoiceState, ProviderPaymentState } from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
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

/** Applies a payment report as its webhooks would have been (a first payment that succeeded also activates). */
export async function applyPaymentReport(
  deps: SweepDeps,
  repos: Repositories,
  link: SweepLink,
  report: PaymentReport,
): Promise<string[]> {
  const notes = [await deps.applier.applyPayment(repos, link.origin, report.payment, link.source)];
  if (report.invoice) {
    notes.push(await deps.applier.applyInvoice(repos, link.origin, report.invoice, 'paid', link.source));
  }
  return notes;
}
