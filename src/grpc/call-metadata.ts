import { Metadata } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { invalidArgument } from '../domain/errors';

/** Metadata keys callers set. */
export const METADATA = {
  idempotencyKey: 'idempotency-key',
  /** The caller's identity until caller authentication lands; recorded in audit rows and events. */
  actor: 'x-actor',
  correlationId: 'x-correlation-id',
} as const;

const PRINTABLE = /^[\x21-\x7e]{1,255}$/;

function first(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' && value ? value : undefined;
}

export function readActor(metadata: Metadata): string {
  const actor = first(metadata, METADATA.actor);
  return actor && PRINTABLE.test(actor) ? actor : 'anonymous';
}

export function readCorrelationId(metadata: Metadata, traceId?: string): string {
  const id = first(metadata, METADATA.correlationId);
  if (id && PRINTABLE.test(id)) return id;
  return traceId ?? randomUUID();
}

/** The idempotency key, if the caller sent one; INVALID_ARGUMENT when it is malformed. */
export function readIdempotencyKey(metadata: Metadata): string | undefined {
  const key = first(metadata, METADATA.idempotencyKey);
  if (key === undefined) return undefined;
  if (!PRINTABLE.test(key)) {
    throw invalidArgument([{ field: 'idempotency-key', rule: 'must be 1-255 printable ASCII characters' }]);
  }
  return key;
}
