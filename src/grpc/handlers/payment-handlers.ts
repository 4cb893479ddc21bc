import type { PaymentUseCases } from '../../app/use-cases/payments';
import { fromMoneyMessage } from '../../contract/money-mapping';
import { toInvoiceMessage, toPaymentMessage, toRefundMessage } from '../../contract/payment-mapping';
import type { PaymentServiceService } from '../../gen/billing/v1/payment';
import * as pb from '../../gen/billing/v1/payment';
import { Handlers, mutation, query } from '../rpc-wrapper';

export function paymentHandlers(payments: PaymentUseCases): Handlers<PaymentServiceService> {
  return {
    getPayment: query(async (req: pb.GetPaymentRequest): Promise<pb.GetPaymentResponse> => ({
      payment: toPaymentMessage(await payments.getPayment(req.paymentId)),
    })),
    listPayments: query(async (req: pb.ListPaymentsRequest): Promise<pb.ListPaymentsResponse> => {
      const page = await payments.listPayments(
        { storefrontId: req.storefrontId, customerId: req.customerId, subscriptionId: req.subscriptionId },
        req.pageSize,
        req.pageToken,
      );
      return { payments: page.items.map(toPaymentMessage), nextPageToken: page.nextPageToken };
    }),
    createRefund: mutation(
      (req: pb.CreateRefundRequest, ctx) =>
        payments.createRefund(
          { paymentId: req.paymentId, amount: fromMoneyMessage(req.amount), reason: req.reason },
          ctx,
        ),
      (refund): pb.CreateRefundResponse => ({ refund: toRefundMessage(refund) }),
    ),
    getRefund: query(async (req: pb.GetRefundRequest): Promise<pb.GetRefundResponse> => ({
      refund: toRefundMessage(await payments.getRefund(req.refundId)),
    })),
    listRefunds: query(async (req: pb.ListRefundsRequest): Promise<pb.ListRefundsResponse> => {
      const page = await payments.listRefunds(req.paymentId, req.pageSize, req.pageToken);
      return { refunds: page.items.map(toRefundMessage), nextPageToken: page.nextPageToken };
    }),
    getInvoice: query(async (req: pb.GetInvoiceRequest): Promise<pb.GetInvoiceResponse> => ({
      invoice: toInvoiceMessage(await payments.getInvoice(req.invoiceId)),
    })),
    listInvoices: query(async (req: pb.ListInvoicesRequest): Promise<pb.ListInvoicesResponse> => {
      const page = await payments.listInvoices(
        { subscriptionId: req.subscriptionId, customerId: req.customerId },
        req.pageSize,
        req.pageToken,
      );
      return { invoices: page.items.map(toInvoiceMessage), nextPageToken: page.nextPageToken };
    }),
  };
}
