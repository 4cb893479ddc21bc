import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Clock } from '../ports/clock.port';
import type { ScheduledAction, ScheduledActionRepository, ScheduleRequest } from '../ports/store.port';
import { asJson, asNumber, asOptionalDate } from './row-values';

type Row = Record<string, unknown>;

/**
 * Schedules in the caller's transaction. Moving a pending action clears its lease, so a run of the old schedule that
 * is still in flight cannot mark the new one done (the runner's writes are fenced by the lease owner).
 */
export class KnexScheduledActions implements ScheduledActionRepository {
  constructor(
    private readonly db: Knex | Knex.Transaction,
    private readonly clock: Clock,
    /** Told the due time of every action scheduled (the runner wakes when it is sooner than its next poll). */
    private readonly onSchedule: (dueAt: Date) => void = () => undefined,
  ) {}

  async schedule(request: ScheduleRequest): Promise<ScheduledAction> {
    const now = this.clock.now();
    const result = await this.db.raw(
      `INSERT INTO scheduled_actions
         (id, kind, subject_id, storefront_id, due_at, payload, attempts, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?::jsonb, 0, 'pending', ?, ?)
       ON CONFLICT (kind, subject_id) WHERE status = 'pending' DO UPDATE SET
         due_at = excluded.due_at, payload = excluded.payload, storefront_id = excluded.storefront_id,
         attempts = 0, last_error = NULL, lease_owner = NULL, lease_until = NULL, updated_at = excluded.updated_at
       RETURNING *`,
      [
        `act_${randomUUID()}`,
        request.kind,
        request.subjectId,
        request.storefrontId ?? null,
        request.dueAt,
        JSON.stringify(request.payload ?? {}),
        now,
        now,
      ],
    );
    this.onSchedule(request.dueAt);
    return toScheduledAction(result.rows[0] as Row);
  }

  async cancel(kind: string, subjectId: string): Promise<boolean> {
    const deleted = await this.db('scheduled_actions')
      .where({ kind, subject_id: subjectId, status: 'pending' })
      .delete();
    return deleted > 0;
  }

  async annotate(
    kind: string,
    subjectId: string,
    entries: Record<string, unknown>,
  ): Promise<ScheduledAction | undefined> {
    const result = await this.db.raw(
      `UPDATE scheduled_actions SET payload = payload || ?::jsonb, updated_at = ?
        WHERE kind = ? AND subject_id = ? AND status = 'pending'
        RETURNING *`,
      [JSON.stringify(entries), this.clock.now(), kind, subjectId],
    );
    const row = result.rows[0] as Row | undefined;
    return row ? toScheduledAction(row) : undefined;
  }

  async pending(kind: string, subjectId: string): Promise<ScheduledAction | undefined> {
    const row = await this.db('scheduled_actions').where({ kind, subject_id: subjectId, status: 'pending' }).first();
    return row ? toScheduledAction(row) : undefined;
  }

  async latest(kind: string, subjectId: string): Promise<ScheduledAction | undefined> {
    // A pending one is the latest by definition (one per subject); among the others, the last one written.
    const row = await this.db('scheduled_actions')
      .where({ kind, subject_id: subjectId })
      .orderByRaw("(status = 'pending') DESC, created_at DESC, updated_at DESC")
      .first();
    return row ? toScheduledAction(row) : undefined;
  }
}

export function toScheduledAction(row: Row): ScheduledAction {
  return {
    id: row.id as string,
    kind: row.kind as string,
    subjectId: row.subject_id as string,
    storefrontId: (row.storefront_id as string | null) ?? undefined,
    dueAt: new Date(row.due_at as string),
    payload: asJson<Record<string, unknown>>(row.payload ?? {}),
    attempts: asNumber(row.attempts),
    lastError: (row.last_error as string | null) ?? undefined,
    status: row.status as ScheduledAction['status'],
    createdAt: new Date(row.created_at as string),
    updatedAt: asOptionalDate(row.updated_at) ?? new Date(row.created_at as string),
  };
}
