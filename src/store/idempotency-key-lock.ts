/**
 * The text whose `hashtextextended` names an idempotency key's advisory lock. Every claim takes it without waiting
 * (`pg_try_advisory_xact_lock`), for the length of its statement or transaction: a key claimed by a call's final
 * statement (change-journal.ts) is an uncommitted row until that commits, and an insert of the same key would wait
 * on it; the held lock tells the concurrent attempt "in flight" at once instead (idempotency-store.ts).
 */
export function keyLockId(scope: string, key: string): string {
  return JSON.stringify(['idempotency', scope, key]);
}

/** The SQL that takes that lock without waiting (true when taken); its one binding is `keyLockId(scope, key)`. */
export const TRY_KEY_LOCK_SQL = 'pg_try_advisory_xact_lock(hashtextextended(?, 0))';
