import { Client } from 'pg';
import { adminDatabaseUrl, kafkaLocal, portOpen } from './infrastructure';

/**
 * Starts what integration tests need and is missing: PostgreSQL must be reachable (it runs on our machines);
 * Kafka is started with scripts/kafka-local unless KAFKA_BROKERS points at one.
 */
export default async function globalSetup(): Promise<void> {
  const client = new Client({ connectionString: adminDatabaseUrl() });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new Error(
      `integration tests need PostgreSQL at ${adminDatabaseUrl().replace(/:[^:@/]+@/, ':***@')} ` +
        `(set DATABASE_URL to another server): ${(error as Error).message}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }

  if (!process.env.KAFKA_BROKERS) {
    if (!(await portOpen('127.0.0.1', 9092))) {
      kafkaLocal('start');
      (globalThis as { startedKafka?: boolean }).startedKafka = true;
    }
    // Workers are forked after global setup, so they inherit this.
    process.env.KAFKA_BROKERS = '127.0.0.1:9092';
  }
}
