import type { EmulatorMount } from '../../kit/emulator/server';

/** Billing interval of a price. */
export type BillingInterval = 'day' | 'week' | 'month' | 'year';

/** One Subotiz account (= one storefront binding): its credentials and its webhook endpoint. */
export interface EmulatorMerchant {
  accessNo: string;
  subMerchantId: string;
  apiKey: string;
  accessSecret: string;
  webhookSecret: string;
  webhookUrl?: string;
  /**
   * Who charges renewals: `provider` (default) — Subotiz charges each period itself; `merchant` — Flow 4: Subotiz
   * does not, the merchant renews with Create Trade (`payment_mode: recurring_payment` and the saved
   * `payment_token`), and a succeeded trade starts the subscription's next cycle.
   */
  renewals?: 'provider' | 'merchant';
  /** The dashboard's default return URL, used when a session names none (none set: `return_url` is required). */
  dashboardReturnUrl?: string;
  /** The dashboard's default cancel URL, used when a hosted session names none. */
  dashboardCancelUrl?: string;
}

/** A price configured in the Subotiz dashboard; price ids are global. `amount` is a major-unit string. */
export interface EmulatorPrice {
  priceId: string;
  amount: string;
  currency: string;
  interval: BillingInterval;
  intervalCount: number;
  trialDays: number;
  totalCycles?: number;
}

/** How to start an emulator. */
export interface SubotizEmulatorOptions {
  /** Serve under this mount of a shared emulator server instead of on a port of its own. */
  mount?: EmulatorMount;
  /**
   * JSON file its state is kept in (loaded at start, written atomically after changes and on stop), so a restart
   * remembers sessions, subscriptions, trades and the clock; undefined keeps nothing on disk.
   */
  stateFile?: string;
  /** 0 = ephemeral (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  merchants?: EmulatorMerchant[];
  prices?: EmulatorPrice[];
  /** Default 60000: first retry after 1 base, then 2, 4, 8 … capped at 240 bases (4 h), at most 16 retries. */
  webhookRetryBaseMs?: number;
  /** Default 0: refunds settle on the next tick. */
  refundSettleMs?: number;
}

/** A running emulator. */
export interface SubotizEmulator {
  url: string;
  port: number;
  addMerchant(m: EmulatorMerchant): void;
  addPrice(p: EmulatorPrice): void;
  /**
   * resolves when no webhook first-delivery is pending (also queued duplicates/redeliveries and refunds about to
   * settle; not retries scheduled for later, nor events a reorder fault still holds)
   */
  idle(): Promise<void>;
  /** Stops serving; its state is written to the state file first. */
  stop(): Promise<void>;
}
