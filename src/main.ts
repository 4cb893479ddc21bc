import { startTelemetry } from './telemetry/tracing';
// Telemetry first: the pg instrumentation must be in place before the driver loads.
const telemetry = startTelemetry(process.env);

import { ConfigError, loadConfig } from './config/config';
import { createLogger, redactUrl } from './telemetry/logger';
import { startService } from './service';

async function main(): Promise<void> {
  // A ConfigError here or later while starting ends in one line (below).
  const config = loadConfig(process.env);
  const logger = createLogger({ level: config.logLevel });
  const service = await startService(config, { logger });
  logger.info(
    {
      grpc: `${config.host}:${service.grpcPort}`,
      http: `${config.host}:${service.httpPort}`,
      database: config.databaseUrl ? redactUrl(config.databaseUrl) : `embedded PGlite in ${config.dataDir}`,
      kafka: config.kafkaBrokers.length
        ? config.kafkaBrokers.join(',')
        : 'off (KAFKA_BROKERS unset: events stay in the outbox)',
      emulators: Object.fromEntries(service.emulators.map((e) => [e.provider, e.url])),
      // The embedded default accepts only this documented key (see README); never a configured one.
      ...(config.demoAdminKey ? { demo_key: 'demo_admin_key' } : {}),
    },
    'billing-adapter serving',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining gRPC, flushing events');
    await service.stop();
    await telemetry.shutdown();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error) => {
  // A mistake in the configuration, found reading it or while starting (a taken port, an unreachable database).
  if (error instanceof ConfigError) {
    console.error(`configuration error: ${error.message}`);
    process.exit(2);
  }
  console.error('billing-adapter failed to start:', error);
  process.exit(1);
});
