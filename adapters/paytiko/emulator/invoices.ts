import type { EmulatorContext } from './context';
import { newKey } from './ids';
import type { InvoiceRecord, InvoiceType, MembershipRecord, TransactionRecord, TransactionStatus } from './records';

/** Adds an Open invoice to the membership. */
export function openInvoice(
  ctx: EmulatorContext,
  m: MembershipRecord,
  input: { type: InvoiceType; amount: bigint; creditApplied?: bigint; periodStart: number; periodEnd: number },
): InvoiceRecord {
  const invoice: InvoiceRecord = {
    key: newKey('inv_'),
    type: input.type,
    status: 'Open',
    amount: input.amount,
    creditApplied: input.creditApplied ?? 0n,
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
    issuedAt: ctx.state.now,
    cycle: Math.max(m.cycle, 1),
    transactions: [],
  };
  m.invoices.push(invoice);
  return invoice;
}

/** Records a PayIn on the invoice for its full amount. */
export function recordPayIn(
  ctx: EmulatorContext,
  invoice: InvoiceRecord,
  status: TransactionStatus,
  declineReasonText: string | null,
): TransactionRecord {
  const transaction: TransactionRecord = {
    transactionId: ctx.state.nextTransactionId(),
    transactionType: 'PayIn',
    transactionStatus: status,
    amount: invoice.amount,
    declineReasonText: status === 'Success' ? null : declineReasonText,
    issuedAt: ctx.state.now,
  };
  invoice.transactions.push(transaction);
  return transaction;
}

/** The membership's invoice with this key. */
export function invoiceOf(m: MembershipRecord, invoiceKey: string): InvoiceRecord | undefined {
  return m.invoices.find((invoice) => invoice.key === invoiceKey);
}
