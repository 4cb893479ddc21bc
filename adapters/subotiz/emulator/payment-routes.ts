import type { ApiHandler } from './api-request';
import { notFound } from './errors';
import { createRefund } from './refunds';
import { route } from '../../kit/emulator/router';
import { paginate } from './validation';
import { invoiceJson, refundJson, tradeJson } from './wire';

/** `GET /api/v1/trade/{trade_id}`. */
const getTrade: ApiHandler = ({ ctx, merchant, params }) => {
  const trade = ctx.state.owned(ctx.state.trades, params.trade_id ?? '', merchant.accessNo);
  if (!trade) throw notFound('trade_id', 'trade', params.trade_id ?? '');
  return tradeJson(trade);
};

/** `GET /api/v1/trades?order_id&page&page_size`, newest first. */
const listTrades: ApiHandler = ({ ctx, merchant, query }) => {
  const orderId = query.get('order_id');
  const matches = [...ctx.state.trades.values()]
    .filter((t) => t.accessNo === merchant.accessNo && (!orderId || t.orderId === orderId))
    .reverse();
  return paginate(matches, query, tradeJson);
};

/** `POST /api/v1/refund`. */
const postRefund: ApiHandler = ({ ctx, merchant, body }) => refundJson(createRefund(ctx, merchant, body));

/** `GET /api/v1/refund/{refund_id}`. */
const getRefund: ApiHandler = ({ ctx, merchant, params }) => {
  const refund = ctx.state.owned(ctx.state.refunds, params.refund_id ?? '', merchant.accessNo);
  if (!refund) throw notFound('refund_id', 'refund', params.refund_id ?? '');
  return refundJson(refund);
};

/** `GET /api/v1/refunds?trade_id&page&page_size` (List Refunds), newest first; `trade_id` narrows to one trade. */
const listRefunds: ApiHandler = ({ ctx, merchant, query }) => {
  const tradeId = query.get('trade_id');
  const matches = [...ctx.state.refunds.values()]
    .filter((r) => r.accessNo === merchant.accessNo && (!tradeId || r.tradeId === tradeId))
    .reverse();
  return paginate(matches, query, refundJson);
};

/** `GET /api/v1/invoice/{id}`. */
const getInvoice: ApiHandler = ({ ctx, merchant, params }) => {
  const invoice = ctx.state.owned(ctx.state.invoices, params.id ?? '', merchant.accessNo);
  if (!invoice) throw notFound('id', 'invoice', params.id ?? '');
  return invoiceJson(invoice);
};

/** Trade, refund and invoice endpoints. */
export const paymentRoutes = [
  route('GET', '/api/v1/trade/{trade_id}', getTrade),
  route('GET', '/api/v1/trades', listTrades),
  route('POST', '/api/v1/refund', postRefund),
  route('GET', '/api/v1/refund/{refund_id}', getRefund),
  route('GET', '/api/v1/refunds', listRefunds),
  route('GET', '/api/v1/invoice/{id}', getInvoice),
];
