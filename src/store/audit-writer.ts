import type { Clock } from '../ports/clock.port';
import type { AuditEntry, AuditWriter } from '../ports/store.port';
import type { ChangeJournal } from './change-journal';

/** Audit rows, written by the transaction's change journal with its events (change-journal.ts). */
export class KnexAuditWriter implements AuditWriter {
  constructor(
    private readonly journal: ChangeJournal,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.journal.audit({
      occurredAt: this.clock.now(),
      actor: entry.actor,
      correlationId: entry.correlationId,
      action: entry.action,
      resourceType: entry.resourceType,
      resourceId: entry.resourceId,
      storefrontId: entry.storefrontId,
      // Who the caller said it acted for sits beside the authenticated actor, never in its place.
      details: entry.onBehalfOf ? { ...entry.details, on_behalf_of: entry.onBehalfOf } : (entry.details ?? {}),
    });
  }
}
