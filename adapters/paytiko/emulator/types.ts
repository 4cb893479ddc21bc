import type { EmulatorMount } from '../../kit/emulator/server';

/** One Paytiko merchant account: its API user, its processor and the secret its webhooks are signed with. */
export interface PaytikoEmulatorMerchant {
  userName: string;
  password: string;
  /** A canonical non-nil UUID; every Create Customer must name it. */
  processorKey: string;
  secretKey: string;
  /** Token lifetime; default 900 (15 minutes). */
  tokenTtlSeconds?: number;
}

/** How to start a Paytiko emulator. */
export interface PaytikoEmulatorOptions {
  /** Serve under this mount of a shared emulator server instead of on a port of its own. */
  mount?: EmulatorMount;
  /** 0 = ephemeral (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** JSON file its state is kept in (customers, memberships, tokens, clock, webhook log); undefined keeps nothing. */
  stateFile?: string;
  merchants: PaytikoEmulatorMerchant[];
}

/** A running Paytiko emulator. */
export interface PaytikoEmulator {
  /** The base URL (a binding's `base_url`), mount path included. */
  url: string;
  port: number;
  /** Resolves when no webhook delivery is queued or in flight (retries scheduled on the clock are not waited for). */
  idle(): Promise<void>;
  /** Stops serving; its state is written to the state file first. */
  stop(): Promise<void>;
}
