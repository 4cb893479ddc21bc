import type { Knex } from 'knex';
import type { ScheduledAction, ScheduledActionQueue } from '../ports/store.port';
import { countOf } from './row-values';
import { toScheduledAction } from './scheduled-actions';
import { storedError } from './stored-error';

/**
 * The scheduler's leases. A claim commits before any handler runs, so no row lock is held across a provider call;
 * the lease (owner + expiry) is what keeps other replicas off the row, and an expired lease frees it again.
 */
export class KnexScheduledActionQueue implements ScheduledActionQueue {
  constructor(private readonly knex: Knex) {}

  async claimDue(
    kinds: readonly string[],
    owner: string,
    now: Date,
    leaseUntil: Date,
    limit: number,
  ): Promise<ScheduledAction[]> {
    if (kinds.length === 0) return [];
    return this.knex.transaction(async (tx) => {
      // Literal statuses here and below: a prepared statement's generic plan then still uses the partial indexes.
      const due = await tx('scheduled_actions')
        .whereRaw("status = 'pending'")
        .whereIn('kind', kinds)
        .where('due_at', '<=', now)
        .where((q) => q.whereNull('lease_until').orWhere('lease_until', '<=', now))
        .orderBy('due_at')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .select('id');
      if (due.length === 0) return [];
      const rows = await tx('scheduled_actions')
        .whereIn(
          'id',
          due.map((r: { id: string }) => r.id),
        )
        .update({ lease_owner: owner, lease_until: leaseUntil, attempts: tx.raw('attempts + 1'), updated_at: now })
        .returning('*');
      return rows.map(toScheduledAction).sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
    });
  }

  async complete(id: string, owner: string, at: Date): Promise<boolean> {
    return this.finish(id, owner, { status: 'done', updated_at: at });
  }

  async retry(
    id: string,
    owner: string,
    dueAt: Date,
    error: string,
    at: Date,
    payload?: Record<string, unknown>,
  ): Promise<boolean> {
    return this.finish(id, owner, {
      due_at: dueAt,
      last_error: storedError(error),
      updated_at: at,
      ...(payload && { payload: this.knex.raw('payload || ?::jsonb', [JSON.stringify(payload)]) }),
    });
  }

  async fail(id: string, owner: string, error: string, at: Date): Promise<boolean> {
    return this.finish(id, owner, { status: 'failed', last_error: storedError(error), updated_at: at });
  }

  async release(id: string, owner: string): Promise<void> {
    await this.finish(id, owner, { attempts: this.knex.raw('greatest(attempts - 1, 0)') });
  }

  countFailed(): Promise<number> {
    return countOf(this.knex('scheduled_actions').whereRaw("status = 'failed'"));
  }

  /** Writes the outcome and frees the lease, only while `owner` still holds it. */
  private async finish(id: string, owner: string, changes: Record<string, unknown>): Promise<boolean> {
    const updated = await this.knex('scheduled_actions')
      .where({ id, lease_owner: owner, status: 'pending' })
      .update({ ...changes, lease_owner: null, lease_until: null });
    return updated > 0;
  }
}
