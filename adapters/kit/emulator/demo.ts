import type { EmulatorMount } from './server';

/** How the embedded default starts one provider's emulator. */
export interface DemoStartOptions {
  host: string;
  /** Where it is served: a base path on the shared emulator server (`/<provider>` on EMULATOR_PORT). */
  mount: EmulatorMount;
  /** Folder for its state file (`<dataDir>/<provider>.json`); undefined keeps nothing on disk. */
  dataDir?: string;
  /** This service's public base URL; webhooks go to `${webhookBaseUrl}/webhooks/<provider>/demo-<provider>`. */
  webhookBaseUrl: string;
  /** The env prefix the demo tenant's secret references must use (`BILLING_SECRET_DEMO_`). */
  secretPrefix: string;
}

/** A running demo emulator and the binding that reaches it. */
export interface DemoEmulator {
  /** The binding's provider config (non-secret), e.g. `base_url` = the mount's URL. */
  config: Record<string, string>;
  /** The binding's secret references (`env:<secretPrefix>…`). */
  secretRefs: Record<string, string>;
  /** Values for those env names; they exist only in this process. */
  secrets: Record<string, string>;
  stop(): Promise<void>;
}

/** What a provider folder exports from `adapters/<provider>/demo.ts` when it has an emulator. */
export interface DemoEmulatorFactory {
  provider: string;
  start(options: DemoStartOptions): Promise<DemoEmulator>;
}
