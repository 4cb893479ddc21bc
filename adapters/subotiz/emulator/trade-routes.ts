import { route } from '../../kit/emulator/router';
import type { ApiHandler } from './api-request';
import { notFound } from './errors';
import { createMerchantTrade } from './merchant-trade';
import { paginate } from './validation';
import { refundJson, tradeJson } from './wire';

/** `POST /api/v1/trade` (Create Trade; Flow 4 renewals with a saved payment_token). */
const postTrade: ApiHandler = ({ ctx, merchant, body }) => tradeJson(createMerchantTrade(ctx, merchant, body));

/** `GET /api/v1/trades/{trade_id}/refunds?page&page_size`: a trade's refunds, newest first. */
const refundsOfTrade: ApiHandler = ({ ctx, merchant, params, query }) => {
  const trade = ctx.state.owned(ctx.state.trades, params.trade_id ?? '', merchant.accessNo);
  if (!trade) throw notFound('trade_id', 'trade', params.trade_id ?? '');
  const refunds = [...ctx.state.refunds.values()].filter((r) => r.tradeId === trade.id).reverse();
  return paginate(refunds, query, refundJson);
};

/** Create Trade and a trade's refunds. */
export const tradeRoutes = [
  route('POST', '/api/v1/trade', postTrade),
  route('GET', '/api/v1/trades/{trade_id}/refunds', refundsOfTrade),
];
