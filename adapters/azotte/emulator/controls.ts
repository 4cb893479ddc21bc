import { type ControlHandler, contextControls } from '../../kit/emulator/controls';
import type { Route } from '../../kit/emulator/router';
import { advanceClock } from './billing-engine';
import type { EmulatorContext } from './context';
import { dlqControls } from './dlq-controls';
import { setupControls } from './setup-controls';
import { worldControls } from './world-controls';

/** Azotte's own controls (items 42–49), declared before the kit's standard ones (`faults/clear` extends the kit's). */
export const controlRoutes: Route<ControlHandler<EmulatorContext>>[] = [
  ...setupControls,
  ...dlqControls,
  ...worldControls,
  ...contextControls<EmulatorContext>(advanceClock),
];
