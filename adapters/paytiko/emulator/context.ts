import type { EmulatorContextBase } from '../../kit/emulator/emulator-context';
import type { EmulatorState } from './state';

/**
 * What every part of a running Paytiko emulator shares: the kit's context, nothing more. Its `chargeFailures` (the
 * "fail next charges" control) hit recurring charges past the chargeEmitterQueue, and proration charges.
 */
export type EmulatorContext = EmulatorContextBase<EmulatorState>;
