import type { ControlHandler } from '../../kit/emulator/controls';
import { invalidInput } from '../../kit/emulator/errors';
import { route } from '../../kit/emulator/router';
import type { EmulatorContext } from './context';

type Handler = ControlHandler<EmulatorContext>;

interface AttemptLog {
  at: string;
  status: number | null;
  error?: string;
}

/** One dead letter as `GET /__emulator/dlq` lists it (item 44). */
function deadLetter(ctx: EmulatorContext, eventId: string): Record<string, unknown> | undefined {
  const detail = ctx.webhooks.detail(eventId) as
    | { type: string; attempt_log: AttemptLog[]; payload: { sequence?: number; data?: { customerUrn?: string } } }
    | undefined;
  if (!detail) return undefined;
  const last = detail.attempt_log.at(-1);
  return {
    event_id: eventId,
    type: detail.type,
    customer_urn: detail.payload.data?.customerUrn ?? null,
    sequence: detail.payload.sequence ?? null,
    attempts: detail.attempt_log.length,
    last_error: last ? (last.error ?? `HTTP ${last.status}`) : null,
    dead_at: last?.at ?? null,
  };
}

// The dead-letter queue is the kit sender's undeliverable events: retries exhausted and not delivered since.
const list: Handler = ({ ctx }) =>
  ctx.webhooks.undeliverable().flatMap((e) => deadLetter(ctx, String(e.event_id)) ?? []);

// Each is sent once more (same bytes, fresh signature); a 2xx removes it from the queue, a refusal leaves it.
const replay: Handler = ({ ctx, body }) => {
  const dead = ctx.webhooks.undeliverable().map((e) => String(e.event_id));
  const asked = body.event_ids;
  if (asked !== undefined && (!Array.isArray(asked) || asked.some((id) => typeof id !== 'string'))) {
    throw invalidInput('event_ids', 'must be an array of event ids');
  }
  const ids = asked === undefined ? dead : (asked as string[]).filter((id) => dead.includes(id));
  for (const id of ids) ctx.webhooks.redeliver(id);
  return { replayed: ids };
};

/** `GET /__emulator/dlq`, `POST /__emulator/dlq/replay` (item 44). */
export const dlqControls = [
  route<Handler>('GET', '/__emulator/dlq', list),
  route<Handler>('POST', '/__emulator/dlq/replay', replay),
];
