import type { ProviderModule } from '../src/ports/provider-adapter.port';
import { azotte } from './azotte';
import { paytiko } from './paytiko';
import { subotiz } from './subotiz';

/** Every provider module this build ships. The composition root hands these to the registry; the core never imports them. */
export const ALL_PROVIDERS: readonly ProviderModule[] = [subotiz, paytiko, azotte];
