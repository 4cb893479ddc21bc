// The emulator kit: what every provider emulator is built from. See adapters/kit/README.md "Emulator kit".
export * from './body-readers';
export * from './clock';
export * from './controls';
export * from './demo';
export * from './due-work';
export * from './emulator-context';
export * from './errors';
export * from './faults';
export * from './http-io';
export * from './pending-work';
export * from './pinned-clock';
export * from './retry-schedules';
export * from './router';
export * from './serve-emulator';
export * from './server';
export * from './state-file';
export * from './webhook-sender';
