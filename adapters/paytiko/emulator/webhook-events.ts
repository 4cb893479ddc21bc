import { randomUUID } from 'node:crypto';
import { rfc3339 } from '../../kit/emulator/clock';
import type { EmulatorContext } from './context';
import { formatMinorUnits } from '../../kit/currencies';
import type { InvoiceRecord, MembershipChanges, MembershipRecord, TransactionRecord } from './records';
import { webhookSignature } from './webhook-signing';
import { updatesJson } from './wire';

// Webhook bodies (PascalCase, wire contract "Webhooks"). Each is fixed when it happens: retries send the same bytes
// with the same ActionId.

const INVOICES_IN_EVENT = 5;

/** TRANSACTION: a charge on one of the membership's invoices. */
export function emitTransaction(
  ctx: EmulatorContext,
  m: MembershipRecord,
  invoice: InvoiceRecord,
  t: TransactionRecord,
): void {
  emit(ctx, m, 'TRANSACTION', null, {
    TransactionType: t.transactionType,
    TransactionStatus: t.transactionStatus,
    TransactionId: t.transactionId,
    InitialAmount: formatMinorUnits(t.amount, m.currency),
    Currency: m.currency,
    DeclineReasonText: t.declineReasonText,
    InvoiceKey: invoice.key,
  });
}

/** SUBSCRIPTION_STATUS_CHANGED, with the membership's status as it is now. */
export function emitStatusChanged(ctx: EmulatorContext, m: MembershipRecord): void {
  emit(ctx, m, 'SUBSCRIPTION_STATUS_CHANGED', null, {});
}

/** SUBSCRIPTION_UPDATED with the fields that changed. */
export function emitUpdated(ctx: EmulatorContext, m: MembershipRecord, changes: MembershipChanges): void {
  emit(ctx, m, 'SUBSCRIPTION_UPDATED', updatesJson(changes), {});
}

function emit(
  ctx: EmulatorContext,
  m: MembershipRecord,
  action: string,
  updates: Record<string, unknown> | null,
  extra: Record<string, unknown>,
): void {
  const merchant = ctx.state.merchants.get(m.merchant);
  const actionId = randomUUID();
  const issuedAt = rfc3339(ctx.state.now) ?? '';
  const signature = merchant ? webhookSignature(merchant.secretKey, m.orderId) : '';
  const body = {
    Action: action,
    ActionId: actionId,
    OrderId: m.orderId,
    IssuedAt: issuedAt,
    Signature: signature,
    Membership: {
      Id: m.id,
      Key: m.key,
      CustomerKey: m.customerKey,
      Status: m.status,
      Metadata: m.metadata,
      Updates: updates,
    },
    Invoices: m.invoices
      .slice(-INVOICES_IN_EVENT)
      .reverse()
      .map((invoice) => ({
        Key: invoice.key,
        Type: invoice.type,
        Status: invoice.status,
        Amount: formatMinorUnits(invoice.amount, m.currency),
        Currency: m.currency,
        PeriodStart: rfc3339(invoice.periodStart),
        PeriodEnd: rfc3339(invoice.periodEnd),
      })),
    ...extra,
  };
  ctx.webhooks.publish({
    id: actionId,
    type: action,
    destination: m.key,
    created: issuedAt,
    body: JSON.stringify(body),
  });
}
