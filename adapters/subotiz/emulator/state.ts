import { wholeSecondsNow } from './calendar';
import { invalidParameter } from './errors';
import { IdGenerator } from './ids';
import { isCurrencyCode, parseAmount } from './money';
import type {
  CustomerRecord,
  InvoiceRecord,
  Owned,
  PriceRecord,
  RefundRecord,
  SessionRecord,
  SubscriptionRecord,
  TradeRecord,
  UsageRecord,
} from './records';
import type { EmulatorMerchant, EmulatorPrice } from './types';

/** A POST's first answer, replayed for the same Request-Id and merchant. */
export interface StoredReply {
  status: number;
  body: string;
}

const INTERVALS = ['day', 'week', 'month', 'year'];

/**
 * Everything the emulator knows: merchants and prices (configuration, kept across reset) and the objects the API
 * creates (cleared by reset). The clock is the emulator's own: it only moves when a test advances it.
 */
export class EmulatorState {
  readonly ids = new IdGenerator();
  readonly merchants = new Map<string, EmulatorMerchant>();
  readonly prices = new Map<string, PriceRecord>();

  now = wholeSecondsNow();
  readonly sessions = new Map<string, SessionRecord>();
  readonly customers = new Map<string, CustomerRecord>();
  readonly trades = new Map<string, TradeRecord>();
  readonly subscriptions = new Map<string, SubscriptionRecord>();
  readonly invoices = new Map<string, InvoiceRecord>();
  readonly refunds = new Map<string, RefundRecord>();
  readonly usage = new Map<string, UsageRecord>();
  readonly replies = new Map<string, StoredReply>();
  readonly portalLinks = new Map<string, { customerId: string; expiresAt: number }>();

  /** Adds a merchant, or replaces the one with the same access_no. Its api_key must not belong to another. */
  addMerchant(merchant: EmulatorMerchant): void {
    for (const field of ['accessNo', 'subMerchantId', 'apiKey', 'accessSecret', 'webhookSecret'] as const) {
      if (typeof merchant[field] !== 'string' || merchant[field] === '') {
        throw invalidParameter(field, 'is required');
      }
    }
    for (const other of this.merchants.values()) {
      if (other.accessNo !== merchant.accessNo && other.apiKey === merchant.apiKey) {
        throw invalidParameter('apiKey', `already used by merchant '${other.accessNo}'`);
      }
    }
    this.merchants.set(merchant.accessNo, { ...merchant });
  }

  /** Adds a price, or replaces the one with the same id. */
  addPrice(price: EmulatorPrice): void {
    if (typeof price.priceId !== 'string' || price.priceId === '') throw invalidParameter('priceId', 'is required');
    if (typeof price.currency !== 'string' || !isCurrencyCode(price.currency)) {
      throw invalidParameter('currency', 'must be an ISO 4217 code such as USD');
    }
    if (!INTERVALS.includes(price.interval))
      throw invalidParameter('interval', `must be one of ${INTERVALS.join(', ')}`);
    const whole = (value: unknown, field: string, min: number) => {
      if (!Number.isInteger(value) || (value as number) < min)
        throw invalidParameter(field, `must be an integer ≥ ${min}`);
      return value as number;
    };
    this.prices.set(price.priceId, {
      priceId: price.priceId,
      amountMinor: parseAmount(price.amount, price.currency, 'amount'),
      currency: price.currency,
      interval: price.interval,
      intervalCount: whole(price.intervalCount, 'intervalCount', 1),
      trialDays: whole(price.trialDays, 'trialDays', 0),
      totalCycles: whole(price.totalCycles ?? 0, 'totalCycles', 0),
    });
  }

  /** The merchant whose Bearer key this is. */
  merchantByApiKey(apiKey: string): EmulatorMerchant | undefined {
    for (const merchant of this.merchants.values()) if (merchant.apiKey === apiKey) return merchant;
    return undefined;
  }

  /** An object by id, only if `accessNo` owns it: other merchants' objects do not exist for it. */
  owned<T extends Owned>(map: Map<string, T>, id: string, accessNo: string): T | undefined {
    const found = map.get(id);
    return found && found.accessNo === accessNo ? found : undefined;
  }

  /** Forgets every object, stored reply and portal link; keeps merchants and prices; the clock restarts at now. */
  reset(): void {
    for (const map of [
      this.sessions,
      this.customers,
      this.trades,
      this.subscriptions,
      this.invoices,
      this.refunds,
      this.usage,
      this.replies,
      this.portalLinks,
    ]) {
      map.clear();
    }
    this.now = wholeSecondsNow();
  }

  /** How many objects of each kind exist (the /__emulator/state control). */
  counts(): Record<string, number> {
    return {
      sessions: this.sessions.size,
      trades: this.trades.size,
      subscriptions: this.subscriptions.size,
      invoices: this.invoices.size,
      refunds: this.refunds.size,
      customers: this.customers.size,
      usage_records: this.usage.size,
    };
  }
}
