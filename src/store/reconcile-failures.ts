import type { Knex } from 'knex';
import type { ReconcileFailures } from '../ports/store.port';
import { storedError } from './stored-error';

/** Per-sweep failure counts of rows the reconciler could not check (migration 008). */
export class KnexReconcileFailures implements ReconcileFailures {
  constructor(private readonly knex: Knex) {}

  async record(kind: string, subjectId: string, error: string, at: Date): Promise<number> {
    const result = await this.knex.raw(
      `INSERT INTO reconcile_failures (kind, subject_id, failures, last_error, updated_at) VALUES (?, ?, 1, ?, ?)
       ON CONFLICT (kind, subject_id) DO UPDATE SET
         failures = reconcile_failures.failures + 1, last_error = excluded.last_error, updated_at = excluded.updated_at
       RETURNING failures`,
      [kind, subjectId, storedError(error), at],
    );
    return Number(result.rows[0].failures);
  }

  async clear(kind: string, subjectId: string): Promise<void> {
    await this.knex('reconcile_failures').where({ kind, subject_id: subjectId }).delete();
  }

  async giveUp(kind: string, subjectId: string, at: Date): Promise<void> {
    await this.knex('reconcile_failures').where({ kind, subject_id: subjectId }).update({ given_up_at: at });
  }
}
