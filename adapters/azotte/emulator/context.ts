import type { EmulatorContextBase } from '../../kit/emulator/emulator-context';
import type { MessageCodeFaults } from './message-code-faults';
import type { EmulatorState } from './state';

/**
 * What every part of a running Azotte emulator shares: the kit's context plus the messageCode fault control (48).
 * Its `chargeFailures` ("fail next charges") hit checkout charges and renewal charges (item 41).
 */
export interface EmulatorContext extends EmulatorContextBase<EmulatorState> {
  messageCodeFaults: MessageCodeFaults;
}
