/** What the orchestrator asks of the load worker (scripts/bench/load-worker.ts), over IPC. */

/** The Subotiz emulator's side of a checkout, for the baseline's one raw HTTP call. */
export interface EmulatorTarget {
  url: string;
  apiKey: string;
  accessNo: string;
  subMerchantId: string;
  priceId: string;
}

export type LoadTarget =
  | { kind: 'grpc-get-subscription'; address: string; subscriptionId: string }
  | { kind: 'grpc-create-customer'; address: string; storefrontId: string; run: string }
  /** CreateCustomer from a plain HTTP/2 client instead of grpc-js (scripts/bench/h2-unary.ts). */
  | { kind: 'h2-create-customer'; address: string; storefrontId: string; run: string }
  | { kind: 'grpc-create-checkout'; address: string; storefrontId: string; planId: string; customerIds: string[] }
  | { kind: 'webhook-post'; url: string; secret: string; accessNo: string; run: string }
  | { kind: 'pg-create-customer'; databaseUrl: string; storefrontId: string; run: string }
  | {
      kind: 'pg-create-checkout';
      databaseUrl: string;
      storefrontId: string;
      planId: string;
      customerIds: string[];
      emulator: EmulatorTarget;
    }
  | { kind: 'pg-inbox-drain'; databaseUrl: string }
  | {
      kind: 'kafka-produce';
      brokers: string[];
      topic: string;
      batchSize: number;
      payloadBytes: number;
      /** The headers of one of the relay's messages (CloudEvents attributes + traceparent), sent with every message. */
      headers: Record<string, string>;
    };

export interface LoadJob {
  target: LoadTarget;
  /** Operations in flight at once. */
  concurrency: number;
  /** Measured operations (a kafka-produce operation is one message). */
  requests: number;
  /** Unmeasured operations first (JIT, pools, connections). */
  warmup: number;
  /**
   * Open loop: start the measured operations at this rate, on a schedule, however long each takes (`concurrency`
   * then only bounds the warm-up). Each latency counts from when its operation was due, not from when it started,
   * so a stalled service cannot hide its queue by slowing the generator down (coordinated omission).
   */
  ratePerSecond?: number;
}

export type LoadReply = { ok: true; latenciesMs: number[]; seconds: number } | { ok: false; error: string };
