/**
 * The provider port, in one import: a provider module (id, binding, features, `create`), the operations its adapter
 * may implement, the provider's objects in our vocabulary, and its webhook reader.
 */
export type * from './provider-event';
export type * from './provider-module';
export * from './provider-operations';
export type * from './provider-state';
export type * from './provider-webhooks';
