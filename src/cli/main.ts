import { parseArgs, Flags, UsageError } from './args';
import { CliClient, endpointFromEnv } from './client';
import type { CommandGroup } from './command';
import { checkout } from './commands/checkout';
import { customers } from './commands/customers';
import { deadLetters } from './commands/dead-letters';
import { emulator } from './commands/emulator';
import { entitlements } from './commands/entitlements';
import { events } from './commands/events';
import { keys } from './commands/keys';
import { plans } from './commands/plans';
import { storefronts } from './commands/storefronts';
import { subscriptions } from './commands/subscriptions';
import { EmulatorError } from './emulator';
import { consoleOutput, describeError } from './output';

const GROUPS: Record<string, CommandGroup> = {
  storefronts,
  plans,
  customers,
  checkout,
  subscriptions,
  entitlements,
  events,
  'dead-letters': deadLetters,
  emulator,
  keys,
};

/** One command per line, starting with its group: `billing <group>` shows that group's lines. */
const COMMANDS = `  storefronts list [--tenant T] [paging]
  storefronts get ID
  storefronts create --id ID --name N --tenant T --country C --currency CUR --provider P [--config k=v ...] [--secret k=ref ...]
  storefronts switch ID --provider P --reason R [--config k=v ...] [--secret k=ref ...]
  storefronts bindings ID
  plans list --storefront S [--archived] [paging]
  plans get ID
  plans archive ID                                           (running subscriptions carry on)
  customers create --storefront S --email E --name N [--country DE] [--phone +49...] [--external-ref R]
  customers get ID
  customers list --storefront S [--email E] [--external-ref R] [paging]
  checkout create --storefront S --customer C --plan P [--payment-method-ref R] [--quantity 1]
  checkout get --session CS
  checkout complete|decline --storefront S --session CS     (on the storefront's emulator)
  subscriptions get ID
  subscriptions list [--storefront S] [--customer C] [--status ACTIVE ...] [paging]
  subscriptions cancel ID [--at-period-end] [--reason R]
  subscriptions revoke ID                                    (undoes a cancel at the period end)
  subscriptions change-plan ID --plan P
  subscriptions pause ID [--resume-at 2026-01-31T00:00:00Z]
  subscriptions resume ID
  entitlements check --customer C --feature F
  events list [--aggregate ID] [--storefront S] [--type T] [paging]
  events tail [--storefront S] [--aggregate ID] [--type T ...] [--from-beginning] [--count N] [--idle-seconds N] [--brokers h:p[,h:p]] [--topic-prefix P]
  dead-letters list [--storefront S] [--provider P] [--kind webhook|event] [paging]
  dead-letters retry ID
  emulator clock --storefront S
  emulator advance --storefront S (--days N | --hours N | --seconds N)
  emulator fail-next --storefront S [--count 1] [--code card_declined] [--message M]
  emulator webhook-faults --storefront S --mode drop|duplicate|reorder [--count 1]
  emulator clear-faults --storefront S
  emulator webhooks --storefront S
  keys new --name N --tenant T [--role service|platform|admin]`;

const PAGING =
  'paging: --page-size N, --page-token T (a list ends with "next page: --page-token T"), --all (every page, at most 100)';

/** Said under a group's own usage too, where it matters to that group's commands. */
const GROUP_NOTES: Record<string, string> = {
  events: `events tail reads Kafka itself (no API key): a line per event as it arrives, NDJSON with --json;
--type is an exact type or a prefix ending in a dot (billing.subscription.); stops after --count events,
--idle-seconds without one, or Ctrl-C
events tail environment: BILLING_KAFKA_BROKERS (else KAFKA_BROKERS, else 127.0.0.1:9092),
BILLING_TOPIC_PREFIX (else KAFKA_TOPIC_PREFIX, else billing)`,
  emulator: `emulator commands use the storefront binding's base_url, else BILLING_EMULATOR_URL;
each emulator call gives up after BILLING_EMULATOR_TIMEOUT_MS (15000)`,
};

const USAGE = `usage: billing <group> <command> [flags] [--json]
${COMMANDS}
${PAGING}
${GROUP_NOTES.emulator}
${GROUP_NOTES.events}
environment: BILLING_API_KEY, BILLING_ADDRESS (127.0.0.1:50051), BILLING_EMULATOR_URL (http://127.0.0.1:8091)`;

/** The usage lines of one group (`billing subscriptions`). */
function groupUsage(group: string): string {
  const lines = COMMANDS.split('\n').filter((line) => line.trimStart().startsWith(`${group} `));
  if (lines.some((line) => line.includes('[paging]'))) lines.push(PAGING);
  if (Object.hasOwn(GROUP_NOTES, group)) lines.push(GROUP_NOTES[group]!);
  return `usage: billing ${group} <command> [flags] [--json]\n${lines.join('\n')}`;
}

/** Runs one command line; resolves the process exit code (0 ok, 1 the call failed, 2 a usage mistake). */
export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  const [group, verb] = args.positional;
  const known = group !== undefined && Object.hasOwn(GROUPS, group);
  const asked = args.flags.has('help') || group === 'help';
  if (group === undefined || asked) {
    // `billing help subscriptions` and `billing subscriptions --help` show the group; otherwise everything.
    const topic = group === 'help' ? args.positional[1] : group;
    const usage = topic !== undefined && Object.hasOwn(GROUPS, topic) ? groupUsage(topic) : USAGE;
    process.stdout.write(`${usage}\n`);
    return asked ? 0 : 2;
  }
  if (known && verb === undefined) {
    process.stdout.write(`${groupUsage(group)}\n`);
    return 2;
  }
  const client = new CliClient(endpointFromEnv(process.env));
  try {
    if (!known) throw new UsageError(`unknown command group '${group}'`);
    const commands = GROUPS[group]!;
    if (!Object.hasOwn(commands, verb!)) {
      throw new UsageError(`'${group}' has ${Object.keys(commands).join(', ')}; got '${verb}'`);
    }
    const flags = new Flags(args);
    await commands[verb!]!({ client, flags, out: consoleOutput(flags.switch('json')) });
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n${known ? groupUsage(group) : USAGE}\n`);
      return 2;
    }
    const line = error instanceof EmulatorError ? `${error.status}: ${error.message}` : describeError(error);
    process.stderr.write(`error: ${line}\n`);
    return 1;
  } finally {
    client.close();
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${describeError(error)}\n`);
    process.exitCode = 1;
  },
);
