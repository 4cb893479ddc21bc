import { PinnedClock } from '../../kit/emulator/pinned-clock';
import type { StoredReply } from './envelopes';
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

export type { StoredReply } from './envelopes';

const INTERVALS = ['day', 'week', 'month', 'year'];

/** The object maps, in the order the state file lists them. */
const OBJECT_MAPS = [
  'sessions',
  'customers',
  'trades',
  'subscriptions',
  'invoices',
  'refunds',
  'usage',
  'replies',
  'portalLinks',
] as const;
type ObjectMapName = (typeof OBJECT_MAPS)[number];

/** What the state file holds (objects as [id, record] pairs, in creation order). */
export interface StateSnapshot {
  version: 1;
  clockOffsetMs: number;
  lastId: string;
  merchants: EmulatorMerchant[];
  prices: [string, PriceRecord][];
  objects: Partial<Record<ObjectMapName, [string, unknown][]>>;
}

/**
 * Everything the emulator knows: merchants and prices (configuration, kept across reset) and the objects the API
 * creates (cleared by reset). Its clock is wall time plus an offset; while due work is processed the clock is pinned
 * at that work's own time, so what it emits is stamped when it happened.
 */
export class EmulatorState extends PinnedClock {
  readonly ids = new IdGenerator();
  readonly merchants = new Map<string, EmulatorMerchant>();
  readonly prices = new Map<string, PriceRecord>();

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
    if (merchant.renewals !== undefined && merchant.renewals !== 'provider' && merchant.renewals !== 'merchant') {
      throw invalidParameter('renewals', "must be 'provider' or 'merchant'");
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

  /** Forgets every object, stored reply and portal link; keeps merchants and prices; the clock is wall time again. */
  reset(): void {
    for (const name of OBJECT_MAPS) this[name].clear();
    this.clock.reset();
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

  /** Everything but the webhook log, for the state file. */
  snapshot(): StateSnapshot {
    const objects: StateSnapshot['objects'] = {};
    for (const name of OBJECT_MAPS) objects[name] = [...(this[name] as Map<string, unknown>).entries()];
    return {
      version: 1,
      clockOffsetMs: this.clock.offset(),
      lastId: this.ids.last(),
      merchants: [...this.merchants.values()],
      prices: [...this.prices.entries()],
      objects,
    };
  }

  /** Takes back a snapshot; merchants and prices given at start are added after it, so they win. */
  restore(snapshot: StateSnapshot): void {
    if (snapshot.version !== 1) throw new Error(`emulator state version ${String(snapshot.version)} is not 1`);
    this.clock.reset(snapshot.clockOffsetMs);
    this.ids.skipPast(snapshot.lastId);
    for (const merchant of snapshot.merchants) this.merchants.set(merchant.accessNo, merchant);
    for (const [id, price] of snapshot.prices) this.prices.set(id, price);
    for (const name of OBJECT_MAPS) {
      const map = this[name] as Map<string, unknown>;
      for (const [id, record] of snapshot.objects[name] ?? []) map.set(id, record);
    }
  }
}
