import type { WebhookInbox } from '../../ports/store.port';

/** Rows per DELETE: each statement stays short, so ingress and the lanes never wait long behind it. */
const BATCH = 1_000;

/**
 * Deletes the webhooks processed more than `retentionMs` ago (bodies included, which is most of the inbox's size), a
 * batch per statement until none is left or `signal` asks to stop; returns how many. Without it the inbox grows by
 * every webhook ever received.
 */
export async function purgeOldWebhooks(
  inbox: Pick<WebhookInbox, 'purgeProcessed'>,
  now: Date,
  retentionMs: number,
  signal: AbortSignal,
): Promise<number> {
  const before = new Date(now.getTime() - retentionMs);
  let purged = 0;
  while (!signal.aborted) {
    const deleted = await inbox.purgeProcessed(before, BATCH, now);
    purged += deleted;
    if (deleted < BATCH) break;
  }
  return purged;
}
