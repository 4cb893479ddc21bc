import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Clock } from '../../ports/clock.port';
import type { ReconcileFailures } from '../../ports/store.port';
import { childSignal } from './child-signal';
import type { Sweep } from './sweep';

export interface ReconcilerOptions {
  /** Rows looked at per sweep and pass. */
  batchSize: number;
  /** Failed checks of one row before its sweep stops asking about it. */
  maxFailures: number;
}

/** Told about every row looked at (metrics): the sweep's kind and how the check went. */
export type ReconcileObserver = (kind: string, outcome: 'checked' | 'failed' | 'given_up') => void;

const tracer = trace.getTracer('billing-adapter/reconciler');

/**
 * Catches up with what providers know but never told us: webhooks are the fast path, this is the safety net. Runs
 * each sweep in turn, one row at a time, each in its own span. A row whose check fails is asked about again later;
 * after `maxFailures` failures in a row it is given up on (logged, counted, kept in `reconcile_failures`), so one
 * broken row cannot cost a provider call every pass forever.
 */
export class Reconciler {
  constructor(
    private readonly sweeps: readonly Sweep[],
    private readonly failures: ReconcileFailures,
    private readonly clock: Clock,
    private readonly options: ReconcilerOptions,
    private readonly logger: Logger,
    private readonly observe: ReconcileObserver = () => undefined,
  ) {}

  /** One pass over every sweep; stops between rows once `signal` aborts (shutdown). Returns the rows looked at. */
  async sweep(signal?: AbortSignal): Promise<number> {
    const now = this.clock.now();
    let looked = 0;
    for (const sweep of this.sweeps) {
      for (const id of await sweep.due(now, this.options.batchSize)) {
        if (signal?.aborted) return looked;
        await this.check(sweep, id, now, signal);
        looked++;
      }
    }
    return looked;
  }

  private async check(sweep: Sweep, id: string, now: Date, signal?: AbortSignal): Promise<void> {
    const { kind } = sweep;
    await tracer.startActiveSpan(`reconcile.${kind}`, { attributes: { 'billing.resource_id': id } }, async (span) => {
      // Each row's own signal: the provider deadlines its sweep adds hang off it, not off the process-long one.
      const row = childSignal(signal);
      try {
        const outcome = await sweep.settle(id, now, row.signal);
        await this.failures.clear(kind, id);
        this.observe(kind, 'checked');
        this.logger.info({ kind, id, outcome }, 'reconciled');
      } catch (error) {
        this.observe(kind, 'failed');
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        await this.failed(sweep, id, error).catch((e: unknown) =>
          this.logger.warn({ kind, id, err: e }, 'could not record a failed reconciliation'),
        );
      } finally {
        row.release();
        span.end();
      }
    });
  }

  private async failed(sweep: Sweep, id: string, error: unknown): Promise<void> {
    const { kind } = sweep;
    const at = this.clock.now();
    const count = await this.failures.record(kind, id, (error as Error).message ?? String(error), at);
    if (count < this.options.maxFailures) {
      this.logger.warn({ kind, id, failures: count, err: error }, 'reconciliation failed; will ask again later');
      await sweep.postpone(id);
      return;
    }
    await sweep.park(id);
    await this.failures.giveUp(kind, id, at);
    this.observe(kind, 'given_up');
    this.logger.error({ kind, id, failures: count, err: error }, 'reconciliation keeps failing; no longer asking');
  }
}
