import { controlRoutes } from './controls';
import { startSubotizEmulator } from './index';
import type { EmulatorPrice } from './types';

// The demo storefront's plans (src/app/use-cases/demo-seed.ts) refer to these price ids, so a checkout from the embedded
// demo works against this emulator without further setup. `npm start` runs the emulator with the same prices.
export const DEMO_PRICES: EmulatorPrice[] = [
  { priceId: 'demo_subotiz_basic', amount: '9.99', currency: 'EUR', interval: 'month', intervalCount: 1, trialDays: 0 },
  { priceId: 'demo_subotiz_pro', amount: '99.00', currency: 'EUR', interval: 'year', intervalCount: 1, trialDays: 14 },
];

/** The test controls, as the server routes them. */
const CONTROLS = controlRoutes.map((r) => `${r.method.padEnd(4)} ${r.template}`);

function port(env: NodeJS.ProcessEnv): number {
  const value = env.PORT ?? '8091';
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > 65535) throw new Error(`PORT must be a port number (got '${value}')`);
  return parsed;
}

/** Runs one Subotiz emulator with a merchant from the environment until SIGINT/SIGTERM. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const merchant = {
    accessNo: env.SUBOTIZ_ACCESS_NO ?? 'demo_access_no',
    subMerchantId: env.SUBOTIZ_SUB_MERCHANT_ID ?? 'demo',
    apiKey: env.SUBOTIZ_API_KEY ?? 'sk_test_demo',
    accessSecret: env.SUBOTIZ_ACCESS_SECRET ?? 'demo_access_secret',
    webhookSecret: env.SUBOTIZ_WEBHOOK_SECRET ?? 'whsec_demo',
    webhookUrl: env.SUBOTIZ_WEBHOOK_URL || undefined,
  };
  const emulator = await startSubotizEmulator({
    port: port(env),
    host: env.HOST ?? '127.0.0.1',
    merchants: [merchant],
    prices: DEMO_PRICES,
  });
  console.log(
    JSON.stringify({
      msg: 'subotiz emulator listening',
      url: emulator.url,
      access_no: merchant.accessNo,
      sub_merchant_id: merchant.subMerchantId,
      webhook_url: merchant.webhookUrl ?? null,
      prices: DEMO_PRICES.map((p) => p.priceId),
      controls: CONTROLS,
    }),
  );
  const shutdown = (signal: string) => {
    void emulator.stop().then(() => {
      console.log(JSON.stringify({ msg: 'subotiz emulator stopped', signal }));
      process.exit(0);
    });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(JSON.stringify({ msg: 'subotiz emulator failed to start', error: String(error) }));
    process.exit(1);
  });
}
