import type { Invoice } from '../domain/invoice';
import type { Failure, Payment, Refund } from '../domain/payment';
import * as pb from '../gen/billing/v1/payment';
import { toMoneyMessage } from './money-mapping';

export function toFailureMessage(failure?: Failure): pb.Failure | undefined {
  return failure ? { code: failure.code, message: failure.message } : undefined;
}

export function toPaymentMessage(p: Payment): pb.Payment {
  return {
    id: p.id,
    storefrontId: p.storefrontId,
    customerId: p.customerId,
    subscriptionId: p.subscriptionId ?? '',
    invoiceId: p.invoiceId ?? '',
    provider: p.provider,
    providerRef: p.providerRef ?? '',
    amount: toMoneyMessage(p.amount),
    status: pb.PaymentStatus[`PAYMENT_STATUS_${p.status}`],
    refundState: pb.RefundState[`REFUND_STATE_${p.refundState}`],
    refundedAmount: toMoneyMessage({ currency: p.amount.currency, amountMinor: p.refundedMinor }),
    failure: toFailureMessage(p.failure),
    createTime: p.createdAt,
    updateTime: p.updatedAt,
  };
}

export function toRefundMessage(r: Refund): pb.Refund {
  return {
    id: r.id,
    paymentId: r.paymentId,
    amount: toMoneyMessage(r.amount),
    reason: r.reason,
    status: pb.RefundStatus[`REFUND_STATUS_${r.status}`],
    providerRef: r.providerRef ?? '',
    failure: toFailureMessage(r.failure),
    createTime: r.createdAt,
    updateTime: r.updatedAt,
  };
}

export function toInvoiceMessage(i: Invoice): pb.Invoice {
  return {
    id: i.id,
    subscriptionId: i.subscriptionId,
    customerId: i.customerId,
    amount: toMoneyMessage(i.amount),
    type: pb.InvoiceType[`INVOICE_TYPE_${i.type}`],
    status: pb.InvoiceStatus[`INVOICE_STATUS_${i.status}`],
    cycleIndex: i.cycleIndex,
    periodStart: i.periodStart,
    periodEnd: i.periodEnd,
    providerRef: i.providerRef ?? '',
    createTime: i.createdAt,
    updateTime: i.updatedAt,
  };
}
