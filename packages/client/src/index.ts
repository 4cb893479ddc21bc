/** @billing-adapter/client: a promise client for the gRPC API and a consumer for the events on Kafka. */
export * from './client';
export * from './errors';
export * from './consumer';
export * from './decode';
