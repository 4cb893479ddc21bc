import type { Knex } from 'knex';
import type { Clock } from '../ports/clock.port';
import type { AuditEntry, AuditWriter } from '../ports/store.port';

export class KnexAuditWriter implements AuditWriter {
  constructor(
    private readonly tx: Knex | Knex.Transaction,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.tx('audit_log').insert({
      occurred_at: this.clock.now(),
      actor: entry.actor,
      correlation_id: entry.correlationId,
      action: entry.action,
      resource_type: entry.resourceType,
      resource_id: entry.resourceId,
      storefront_id: entry.storefrontId ?? null,
      // Who the caller said it acted for sits beside the authenticated actor, never in its place.
      details: JSON.stringify(
        entry.onBehalfOf ? { ...entry.details, on_behalf_of: entry.onBehalfOf } : (entry.details ?? {}),
      ),
    });
  }
}
