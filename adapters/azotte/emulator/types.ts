import type { EmulatorMount } from '../../kit/emulator/server';

/** One Azotte tenant (`x-tn`): its API key, webhook endpoint and signing secrets (newest first). */
export interface AzotteEmulatorTenant {
  tenant: string;
  apiKey: string;
  /** Where its webhooks go; undefined records events without sending them. */
  webhookUrl?: string;
  /** Every active signing secret, newest first (a rotation lists two). */
  webhookSecrets: string[];
  /** Every customer gets the test cards pm.test.visa / pm.test.visa_3ds / pm.test.declined (item 45). */
  testCards: boolean;
}

/** A storefront of the catalog (item 42). */
export interface AzotteStorefront {
  storefrontUrn: string;
  currency: string;
}

/** A bundle of the catalog: what an offer's artifact group shows (item 20). */
export interface AzotteBundle {
  storefrontUrn: string;
  bundleUrn: string;
  sku: string;
  name: string;
  amountMilpieces: bigint;
  currency: string;
  period: { unit: PeriodUnit; count: number };
  trialDays: number;
  entitlements: string[];
}

export type PeriodUnit = 'Day' | 'Week' | 'Month' | 'Year';

/** A campaign and its promotion code (item 42); exactly one of percent / amount off. */
export interface AzotteCampaign {
  campaignCode: string;
  promotionCode: string | null;
  description: string;
  percentOffBasisPoints?: number;
  amountOffMilpieces?: bigint;
  cycles: number;
}

/** The catalog every tenant sells from. */
export interface AzotteCatalog {
  storefronts: AzotteStorefront[];
  bundles: AzotteBundle[];
  campaigns: AzotteCampaign[];
}

/** How to start an Azotte emulator. */
export interface AzotteEmulatorOptions {
  /** Serve under this mount of a shared emulator server instead of on a port of its own. */
  mount?: EmulatorMount;
  /** 0 = ephemeral (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** JSON file its state is kept in; undefined keeps nothing. */
  stateFile?: string;
  tenants?: AzotteEmulatorTenant[];
  catalog?: Partial<AzotteCatalog>;
  /** Checkout processing delay in seconds (default 2; control 43). */
  processingDelaySeconds?: number;
}

/** A running Azotte emulator. */
export interface AzotteEmulator {
  /** The base URL (a binding's `base_url`), mount path included. */
  url: string;
  port: number;
  /** Resolves when no webhook delivery is queued or in flight (retries due later on the clock are not waited for). */
  idle(): Promise<void>;
  /** Stops serving; its state is written to the state file first. */
  stop(): Promise<void>;
}
