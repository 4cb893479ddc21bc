import type { Logger } from 'pino';

/** What /readyz says about Kafka: events wait in the outbox while it is unreachable; the service keeps serving. */
export type KafkaState = { state: 'unknown' } | { state: 'reachable' } | { state: 'unreachable'; reason: string };

/**
 * Asks the brokers at start and then every `intervalMs` whether they answer, so an unreachable Kafka is reported at
 * once (a warning naming KAFKA_BROKERS) rather than noticed when consumers miss events. Readiness does not depend on
 * it: writes go to the outbox either way.
 */
export class KafkaMonitor {
  private current: KafkaState = { state: 'unknown' };
  private timer?: NodeJS.Timeout;
  private probing?: Promise<void>;

  constructor(
    private readonly probe: () => Promise<void>,
    private readonly brokers: readonly string[],
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  status(): KafkaState {
    return this.current;
  }

  start(): void {
    this.probing = this.check();
    this.timer = setInterval(() => {
      this.probing ??= this.check();
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.probing;
  }

  private async check(): Promise<void> {
    try {
      await this.probe();
      if (this.current.state === 'unreachable')
        this.logger.info({ kafka: this.brokers.join(',') }, 'Kafka reachable again');
      this.current = { state: 'reachable' };
    } catch (error) {
      const reason = error instanceof Error ? error.message.slice(0, 200) : String(error);
      if (this.current.state !== 'unreachable') {
        this.logger.warn(
          { kafka: this.brokers.join(','), reason },
          `KAFKA_BROKERS: no broker of ${this.brokers.join(',')} answers; events wait in the outbox until one does`,
        );
      }
      this.current = { state: 'unreachable', reason };
    } finally {
      this.probing = undefined;
    }
  }
}
