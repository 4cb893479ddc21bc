import type { ProviderModule } from '../src/ports/provider-adapter.port';
import { azotte } from './azotte';
import { azotteDemo } from './azotte/demo';
import type { DemoEmulatorFactory } from './kit/emulator/demo';
import { paytiko } from './paytiko';
import { paytikoDemo } from './paytiko/demo';
import { subotiz } from './subotiz';
import { subotizDemo } from './subotiz/demo';

/**
 * Every provider this build ships: its module and, where it has an emulator, how the embedded default starts it.
 * Adding a provider is one folder under `adapters/` and one line here.
 */
const PROVIDERS: readonly { module: ProviderModule; demo?: DemoEmulatorFactory }[] = [
  { module: subotiz, demo: subotizDemo },
  { module: paytiko, demo: paytikoDemo },
  { module: azotte, demo: azotteDemo },
];

/** The composition root hands these to the registry; the core never imports them. */
export const ALL_PROVIDERS: readonly ProviderModule[] = PROVIDERS.map((p) => p.module);

/** The emulators the embedded default runs, one per provider that has one. */
export const DEMO_EMULATORS: readonly DemoEmulatorFactory[] = PROVIDERS.flatMap((p) => (p.demo ? [p.demo] : []));
