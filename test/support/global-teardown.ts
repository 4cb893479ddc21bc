import { kafkaLocal } from './infrastructure';

/** Stops the Kafka broker global setup started (one the developer started stays up). */
export default async function globalTeardown(): Promise<void> {
  if ((globalThis as { startedKafka?: boolean }).startedKafka) kafkaLocal('stop');
}
