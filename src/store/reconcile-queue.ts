import type { Knex } from 'knex';

type Row = Record<string, unknown>;

/**
 * The rows of one table the reconciler looks at: those still in `openStatus` whose `dueColumn` is at or before a
 * time. Subscriptions and payments keep "when to ask next" there, refunds "when last asked"; migration 003 indexes
 * each. One shape for the three, so the sweep's list, lock and reschedule cannot drift apart between tables.
 */
export class ReconcileQueue {
  constructor(
    private readonly db: Knex | Knex.Transaction,
    private readonly table: string,
    private readonly openStatus: string,
    private readonly dueColumn: string,
  ) {
    // Written into the SQL as a literal (see `due`): only ever one of our status names, never a caller's text.
    if (!/^[A-Z_]+$/.test(openStatus)) throw new Error(`reconcile queue: '${openStatus}' is not a status name`);
  }

  /** Ids of open rows due by `at`, most overdue first. */
  async listDue(at: Date, limit: number): Promise<string[]> {
    const rows: Row[] = await this.due(at).orderBy(this.dueColumn).limit(limit).select('id');
    return rows.map((r) => r.id as string);
  }

  /** The row, locked, when it is still open and due; undefined when settled meanwhile or locked by another replica. */
  lockDue(id: string, at: Date): Promise<Row | undefined> {
    return this.due(at).where({ id }).first().forUpdate().skipLocked();
  }

  async setDue(id: string, at: Date): Promise<void> {
    await this.db(this.table)
      .where({ id })
      .update({ [this.dueColumn]: at });
  }

  /**
   * The status is a literal, not a parameter: as a prepared statement's generic plan this still matches the table's
   * partial index on open rows (migration 003); `status = $1` would not.
   */
  private due(at: Date) {
    return this.db(this.table).whereRaw(`status = '${this.openStatus}'`).where(this.dueColumn, '<=', at);
  }
}
