import { PinnedClock } from '../../kit/emulator/pinned-clock';
import type {
  CheckoutRecord,
  CustomerRecord,
  EntitlementRecord,
  OfferRecord,
  PaymentMethodRecord,
  PaymentRecord,
  SubscriptionRecord,
} from './records';
import type { AzotteCatalog, AzotteEmulatorTenant } from './types';

/** What caused the events being made: who (envelope `actor`) and the id they share when no checkout's applies. */
export interface Cause {
  actor: { type: 'C2A' | 'P2A' | 'System'; id: string };
  correlationId: string;
}

/** What is kept on disk. */
export interface StateSnapshot {
  clockOffsetMs: number;
  tenants: AzotteEmulatorTenant[];
  catalog: AzotteCatalog;
  customers: CustomerRecord[];
  methods: PaymentMethodRecord[];
  offers: OfferRecord[];
  checkouts: CheckoutRecord[];
  subscriptions: SubscriptionRecord[];
  payments: PaymentRecord[];
  entitlements: EntitlementRecord[];
  sequences: [string, number][];
  lastCustomer: number;
  processingDelaySeconds: number;
}

/** Everything the emulator knows, by id, on a clock that due work pins at its own time (`now`, `at`). */
export class EmulatorState extends PinnedClock {
  readonly tenants = new Map<string, AzotteEmulatorTenant>();
  catalog: AzotteCatalog = { storefronts: [], bundles: [], campaigns: [] };
  readonly customers = new Map<string, CustomerRecord>();
  /** By `${customerUrn} ${paymentMethodUrn}`: test cards share their urn across customers (item 45). */
  readonly methods = new Map<string, PaymentMethodRecord>();
  readonly offers = new Map<string, OfferRecord>();
  readonly checkouts = new Map<string, CheckoutRecord>();
  readonly subscriptions = new Map<string, SubscriptionRecord>();
  readonly payments = new Map<string, PaymentRecord>();
  readonly entitlements = new Map<string, EntitlementRecord>();
  /** The last webhook `sequence` made per customer (item 36). */
  readonly sequences = new Map<string, number>();
  processingDelaySeconds = 2;
  private lastCustomer = 480;
  /** Set by the server per API call / control and by the engine per clock step. */
  cause: Cause = { actor: { type: 'System', id: 'emulator' }, correlationId: 'emulator' };

  nextCustomerNumber(): number {
    this.lastCustomer += 1;
    return this.lastCustomer;
  }

  /** The next `sequence` of a customer's events, from 1 without gaps. */
  nextSequence(customerUrn: string): number {
    const next = (this.sequences.get(customerUrn) ?? 0) + 1;
    this.sequences.set(customerUrn, next);
    return next;
  }

  method(customerUrn: string, paymentMethodUrn: string): PaymentMethodRecord | undefined {
    return this.methods.get(`${customerUrn} ${paymentMethodUrn}`);
  }

  putMethod(method: PaymentMethodRecord): void {
    this.methods.set(`${method.customerUrn} ${method.paymentMethodUrn}`, method);
  }

  /** A checkout by its tenant and correlationId (item 23: kept forever). */
  checkoutByCorrelation(tenant: string, correlationId: string): CheckoutRecord | undefined {
    for (const checkout of this.checkouts.values()) {
      if (checkout.tenant === tenant && checkout.correlationId === correlationId) return checkout;
    }
    return undefined;
  }

  /** Runs `task` with `cause` as the cause of the events it makes. */
  because<T>(cause: Cause, task: () => T): T {
    const previous = this.cause;
    this.cause = cause;
    try {
      return task();
    } finally {
      this.cause = previous;
    }
  }

  snapshot(): StateSnapshot {
    return {
      clockOffsetMs: this.clock.offset(),
      tenants: [...this.tenants.values()],
      catalog: this.catalog,
      customers: [...this.customers.values()],
      methods: [...this.methods.values()],
      offers: [...this.offers.values()],
      checkouts: [...this.checkouts.values()],
      subscriptions: [...this.subscriptions.values()],
      payments: [...this.payments.values()],
      entitlements: [...this.entitlements.values()],
      sequences: [...this.sequences.entries()],
      lastCustomer: this.lastCustomer,
      processingDelaySeconds: this.processingDelaySeconds,
    };
  }

  restore(saved: StateSnapshot): void {
    this.clock.reset(saved.clockOffsetMs);
    for (const tenant of saved.tenants) this.tenants.set(tenant.tenant, tenant);
    this.catalog = saved.catalog;
    for (const c of saved.customers) this.customers.set(c.customerUrn, c);
    for (const m of saved.methods) this.putMethod(m);
    for (const o of saved.offers) this.offers.set(o.offerIdentifier, o);
    for (const c of saved.checkouts) this.checkouts.set(c.trackingNumber, c);
    for (const s of saved.subscriptions) this.subscriptions.set(s.orderIdentifier, s);
    for (const p of saved.payments) this.payments.set(p.paymentUrn, p);
    for (const e of saved.entitlements) this.entitlements.set(e.entitlementUrn, e);
    for (const [customer, sequence] of saved.sequences) this.sequences.set(customer, sequence);
    this.lastCustomer = saved.lastCustomer;
    this.processingDelaySeconds = saved.processingDelaySeconds;
  }
}
