import { UsageError } from '../args';
import type { CommandContext, CommandGroup } from '../command';
import { type EmulatorAt, emulatorControl, storefrontEmulator } from '../emulator';
import { type Output, printFields, printJson, printTable } from '../output';

/**
 * The standard `/__emulator` controls (adapters/kit/README.md) of the emulator a storefront is bound to: its clock,
 * failing charges, webhook faults, and its webhook log. For tests and demos; a real provider has none of these.
 */
export const emulator: CommandGroup = {
  async clock(ctx) {
    const emulatorAt = await emulatorOf(ctx);
    printClock(ctx.out, await emulatorControl(emulatorAt, 'GET', 'clock'));
  },

  /** Moves the emulator's clock on; the renewals, trial ends and dunning that fall due on the way happen then. */
  async advance(ctx) {
    const { flags } = ctx;
    const amounts = [
      ['days', 86_400],
      ['hours', 3_600],
      ['seconds', 1],
    ] as const;
    const given = amounts.flatMap(([name, unit]) => {
      const value = flags.integer(name, 1);
      return value === undefined ? [] : [value * unit];
    });
    if (given.length !== 1) throw new UsageError('give exactly one of --days, --hours, --seconds');
    const emulatorAt = await emulatorOf(ctx);
    printClock(ctx.out, await emulatorControl(emulatorAt, 'POST', 'clock/advance', { seconds: given[0] }));
  },

  async 'fail-next'(ctx) {
    const { flags, out } = ctx;
    const body = {
      count: flags.integer('count', 1) ?? 1,
      code: flags.optional('code') ?? 'card_declined',
      message: flags.optional('message'),
    };
    const emulatorAt = await emulatorOf(ctx);
    const answer = await emulatorControl(emulatorAt, 'POST', 'charges/fail-next', body);
    if (out.json) return printJson(out, answer);
    out.line(`the next ${body.count} charge(s) fail with ${body.code}`);
  },

  async 'webhook-faults'(ctx) {
    const { flags, out } = ctx;
    const mode = flags.required('mode');
    if (!['drop', 'duplicate', 'reorder'].includes(mode)) {
      throw new UsageError(`--mode must be drop, duplicate or reorder (got '${mode}')`);
    }
    const count = flags.integer('count', 1) ?? 1;
    const emulatorAt = await emulatorOf(ctx);
    const answer = await emulatorControl(emulatorAt, 'POST', 'webhooks/faults', { mode, count });
    if (out.json) return printJson(out, answer);
    out.line(`the next ${count} webhook event(s): ${mode}`);
  },

  async 'clear-faults'(ctx) {
    const emulatorAt = await emulatorOf(ctx);
    const answer = await emulatorControl(emulatorAt, 'POST', 'faults/clear');
    if (ctx.out.json) return printJson(ctx.out, answer);
    ctx.out.line('API faults and charge failures cleared');
  },

  /** The emulator's webhook log, oldest first. */
  async webhooks(ctx) {
    const { out } = ctx;
    const emulatorAt = await emulatorOf(ctx);
    const log = (await emulatorControl(emulatorAt, 'GET', 'webhooks')) as Record<string, unknown>[];
    if (out.json) return printJson(out, log);
    const listed = new Set(['event_id', 'type', 'attempts', 'delivered', 'last_status', 'created']);
    printTable(
      out,
      ['EVENT', 'TYPE', 'TO', 'ATTEMPTS', 'DELIVERED', 'LAST STATUS', 'CREATED'],
      log.map((e) => [
        text(e.event_id),
        text(e.type),
        // Each emulator names its destination its own way (merchant, account, …): the one field not listed above.
        text(Object.entries(e).find(([key]) => !listed.has(key))?.[1]),
        text(e.attempts),
        e.delivered === true ? 'yes' : 'no',
        text(e.last_status),
        text(e.created),
      ]),
    );
  },
};

/** Reads `--storefront`, rejects unknown flags, and answers where that storefront's emulator is. */
async function emulatorOf({ client, flags }: CommandContext): Promise<EmulatorAt> {
  const storefrontId = flags.required('storefront');
  flags.done(2);
  return storefrontEmulator(client, storefrontId);
}

function printClock(out: Output, answer: unknown): void {
  if (out.json) return printJson(out, answer);
  const clock = answer as { now: string | null; offset_seconds: number };
  printFields(out, { now: clock.now ?? 'wall time', 'offset (seconds)': String(clock.offset_seconds) });
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value as string | number | boolean);
}
