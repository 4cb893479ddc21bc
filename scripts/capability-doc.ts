import { ALL_PROVIDERS } from '../adapters';
import { createHttpTransport } from '../adapters/kit/http-transport';
import { CAPABILITY_TABLE_BEGIN, CAPABILITY_TABLE_END, capabilityTable } from '../src/app/providers/capability-table';
import { type LoadedProvider, ProviderRegistry } from '../src/app/providers/provider-registry';
import { systemClock } from '../src/ports/clock.port';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * The providers this build ships, loaded as the service loads them (capabilities depend on the operations each
 * adapter builds). Nothing is called: building an adapter does no I/O.
 */
export function shippedProviders(): LoadedProvider[] {
  const http = createHttpTransport();
  const registry = new ProviderRegistry(ALL_PROVIDERS, () => ({ clock: systemClock, logger: silent, http }));
  return registry.ids().map((id) => registry.find(id)!);
}

/** The capability table of the shipped providers, as README.md carries it between its markers. */
export function shippedCapabilityTable(): string {
  return capabilityTable(shippedProviders());
}

/** The block between the markers of `markdown` (trimmed), or an error naming the missing marker. */
export function capabilityBlockOf(markdown: string): string {
  const { begin, end } = markers(markdown);
  return markdown.slice(begin + CAPABILITY_TABLE_BEGIN.length, end).trim();
}

/** `markdown` with the block between its markers replaced by `table`. */
export function withCapabilityTable(markdown: string, table: string): string {
  const { begin, end } = markers(markdown);
  return `${markdown.slice(0, begin + CAPABILITY_TABLE_BEGIN.length)}\n\n${table}\n\n${markdown.slice(end)}`;
}

function markers(markdown: string): { begin: number; end: number } {
  const begin = markdown.indexOf(CAPABILITY_TABLE_BEGIN);
  const end = markdown.indexOf(CAPABILITY_TABLE_END);
  if (begin < 0) throw new Error(`no '${CAPABILITY_TABLE_BEGIN}' line`);
  if (end < begin) throw new Error(`no '${CAPABILITY_TABLE_END}' line after '${CAPABILITY_TABLE_BEGIN}'`);
  return { begin, end };
}
