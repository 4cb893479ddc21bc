import type { Flags } from './args';
import type { CliClient } from './client';
import type { Output } from './output';

/** What every command gets: the service client, its flags and operands, and where to print. */
export interface CommandContext {
  client: CliClient;
  flags: Flags;
  out: Output;
}

/** A command group's verbs (`subscriptions` → get, cancel). */
export type CommandGroup = Record<string, (ctx: CommandContext) => Promise<void>>;
