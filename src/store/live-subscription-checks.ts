import type { Knex } from 'knex';
import type { LiveCheckRules, LiveSubscriptionChecks } from '../ports/store.port';

const LIVE = ['TRIALING', 'ACTIVE', 'PAST_DUE'];

/**
 * The live-subscription sweep's queue (period end passed without a renewal seen, past due with its dunning outcome
 * unknown, or silent for long), computed from the row instead of kept in a "next check" column, so a webhook
 * that moves the period end (or any change, via `updated_at`) reschedules the check without the writer knowing.
 * `live_checked_at` (migration 008) is the sweep's own: when it last asked.
 */
export class KnexLiveSubscriptionChecks implements LiveSubscriptionChecks {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async listDue(now: Date, rules: LiveCheckRules, limit: number): Promise<string[]> {
    const periodEndedBefore = new Date(now.getTime() - rules.periodEndGraceMs);
    const silentSince = new Date(now.getTime() - rules.silenceMs);
    const failedBefore = new Date(now.getTime() - rules.retryAfterMs);
    // A past-due subscription's dunning retries happen at the provider; the outcome of each is asked about this often.
    const pastDueSince = new Date(now.getTime() - Math.max(rules.periodEndGraceMs, rules.retryAfterMs));
    const result = await this.db.raw(
      `SELECT s.id FROM subscriptions s
       LEFT JOIN reconcile_failures f ON f.kind = ? AND f.subject_id = s.id
       WHERE s.status IN (${LIVE.map(() => '?').join(', ')})
         AND (f.subject_id IS NULL OR (f.given_up_at IS NULL AND f.updated_at <= ?))
         AND (
           (s.current_period_end <= ?
             AND (s.live_checked_at IS NULL
                  OR s.live_checked_at < s.current_period_end + ? * interval '1 millisecond'))
           OR greatest(s.updated_at, coalesce(s.live_checked_at, s.created_at)) <= ?
           OR (s.status = 'PAST_DUE' AND greatest(s.updated_at, coalesce(s.live_checked_at, s.created_at)) <= ?)
         )
       ORDER BY coalesce(s.live_checked_at, s.created_at), s.id
       LIMIT ?`,
      [
        rules.failuresKind,
        ...LIVE,
        failedBefore,
        periodEndedBefore,
        rules.periodEndGraceMs,
        silentSince,
        pastDueSince,
        limit,
      ],
    );
    return (result.rows as { id: string }[]).map((r) => r.id);
  }

  async lock(id: string): Promise<boolean> {
    const row = await this.db('subscriptions')
      .where({ id })
      .whereIn('status', LIVE)
      .first('id')
      .forUpdate()
      .skipLocked();
    return row !== undefined;
  }

  async markChecked(id: string, at: Date): Promise<void> {
    await this.db('subscriptions').where({ id }).update({ live_checked_at: at });
  }
}
