/**
 * Layering as ARCHITECTURE.md states it, checked by `npm run lint` (`depcruise src adapters scripts`).
 *
 * Dependencies point inward: domain ← ports ← app ← transports (grpc, webhooks, store, outbox), and adapters reach
 * the core only through domain and ports. `src/service.ts` is the composition root: the one place that knows every
 * layer and the adapters. Tests are free (they are not cruised).
 *
 * Exceptions are single edges (one file to one file), each with its reason, and only for type imports; a new one
 * should be rare and argued in review.
 */

/** The rings around the app core; each stands on app/domain/ports, never on another ring. */
const RINGS = 'grpc|webhooks|store|outbox';

/** Packages that do I/O for a transport or a store; the core (domain, ports, app) takes them only through ports. */
const INFRA_PACKAGES =
  '^node_modules/(knex|knex-pglite|pg|@electric-sql/pglite|kafkajs|@grpc/[^/]+|grpc-health-check|prom-client|@opentelemetry/sdk-node)/';

/** Node built-ins that do I/O; the domain has none. */
const IO_BUILTINS = '^(node:)?(fs|fs/promises|child_process|cluster|dgram|dns|http|https|http2|worker_threads)$';

/**
 * Allowed single edges between layers, each one a type import only.
 * `from`/`to` are exact files; the rule named in `rule` lets exactly this edge through.
 */
const EXCEPTIONS = [
  {
    rule: 'rings-stand-apart',
    from: 'src/grpc/idempotency-guard.ts',
    to: 'src/store/idempotency-store.ts',
    why: 'the idempotency store is declared beside its implementation; the guard takes only its type and service.ts wires it',
  },
  {
    rule: 'rings-stand-apart',
    from: 'src/grpc/keyed-completion.ts',
    to: 'src/store/idempotency-store.ts',
    why: 'as above: the type of the idempotency store, not its implementation',
  },
  {
    rule: 'rings-stand-apart',
    from: 'src/outbox/outbox-relay.ts',
    to: 'src/store/outbox-relay-store.ts',
    why: 'the relay claims rows through the type of the outbox store; service.ts passes the knex implementation',
  },
  {
    rule: 'config-stands-on-domain-and-ports',
    from: 'src/config/config.ts',
    to: 'src/outbox/cloud-event.ts',
    why: 'EVENT_ENCODING is parsed into the EventEncoding type the CloudEvent writer declares',
  },
];

const exact = (file) => `^${file.replace(/[.]/g, '\\.')}$`;
const list = (value) => (value === undefined ? [] : [].concat(value));

/** A rule plus its exceptions: the exception edges pass, and must stay type-only. */
function withExceptions(rule) {
  const own = EXCEPTIONS.filter((exception) => exception.rule === rule.name);
  if (own.length === 0) return [rule];
  const sources = [...new Set(own.map((exception) => exception.from))];
  const main = { ...rule, from: { ...rule.from, pathNot: [...list(rule.from.pathNot), ...sources.map(exact)] } };
  const perSource = sources.map((source) => {
    // The exact source path has no capture groups, so `$1` in `to` is filled in here from the rule's own `from`.
    const groups = new RegExp(rule.from.path).exec(source);
    if (!groups) throw new Error(`exception source ${source} is outside rule ${rule.name}`);
    const fill = (pattern) => pattern.replace(/\$(\d)/g, (_, index) => groups[Number(index)]);
    return {
      ...rule,
      from: { path: exact(source) },
      to: {
        ...rule.to,
        pathNot: [
          ...list(rule.to.pathNot).map(fill),
          ...own.filter((exception) => exception.from === source).map((exception) => exact(exception.to)),
        ],
      },
    };
  });
  const typeOnly = own.map((exception) => ({
    name: `${rule.name}-exception-is-type-only`,
    severity: 'error',
    comment: `${exception.from} may import ${exception.to} for its types only: ${exception.why}`,
    from: { path: exact(exception.from) },
    to: { path: exact(exception.to), dependencyTypesNot: ['type-only'] },
  }));
  return [main, ...perSource, ...typeOnly];
}

/** A layer of src/ that may import, within the repo, only itself and the `allowed` layers of src/. */
const standsOn = (name, comment, layer, allowed) => ({
  name,
  severity: 'error',
  comment,
  from: { path: `^src/${layer}/` },
  to: { path: '^(src|adapters|scripts)/', pathNot: `^src/(${[layer, ...allowed].join('|')})/` },
});

const rules = [
  {
    name: 'no-circular',
    severity: 'error',
    comment: 'A cycle makes two modules one; split the shared piece out (usually into domain or ports).',
    from: {},
    to: { circular: true },
  },
  {
    name: 'not-to-unresolvable',
    severity: 'error',
    comment: 'An import the cruiser cannot resolve is an import no rule below can check.',
    from: {},
    to: { couldNotResolve: true },
  },
  {
    name: 'domain-depends-on-nothing',
    severity: 'error',
    comment: 'The domain (model, money, state machines, errors) imports nothing else in the repo.',
    from: { path: '^src/domain/' },
    to: { path: '^(src|adapters|scripts|test)/', pathNot: '^src/domain/' },
  },
  {
    name: 'domain-does-no-io',
    severity: 'error',
    comment: 'The domain has no I/O: no packages but pure helpers (ulid).',
    from: { path: '^src/domain/' },
    to: { path: '^node_modules/', pathNot: '^node_modules/ulid/' },
  },
  {
    name: 'domain-does-no-io-builtins',
    severity: 'error',
    comment: 'The domain has no I/O; pure built-ins (crypto, net.isIP, path) are fine.',
    from: { path: '^src/domain/' },
    to: { dependencyTypes: ['core'], path: IO_BUILTINS },
  },
  standsOn(
    'ports-depend-on-domain-only',
    'Ports are the interfaces the core needs; they speak in domain types only.',
    'ports',
    ['domain'],
  ),
  standsOn(
    'app-depends-on-domain-and-ports',
    'Use cases and the engine reach stores, transports and providers only through ports.',
    'app',
    ['domain', 'ports'],
  ),
  {
    name: 'core-uses-no-infrastructure-package',
    severity: 'error',
    comment: 'Databases, brokers, gRPC and metrics packages belong to the rings; the core sees them through ports.',
    from: { path: '^src/(domain|ports|app)/' },
    to: { path: INFRA_PACKAGES },
  },
  {
    name: 'rings-stand-apart',
    severity: 'error',
    comment: `grpc, webhooks, store and outbox stand on app/domain/ports (and telemetry/config), not on each other.`,
    from: { path: `^src/(${RINGS})/` },
    to: { path: `^src/(${RINGS})/`, pathNot: '^src/$1/' },
  },
  standsOn(
    'telemetry-is-a-leaf',
    'Logger, metrics and tracing are used by every layer, so they import none of them.',
    'telemetry',
    [],
  ),
  standsOn(
    'config-stands-on-domain-and-ports',
    'Configuration is parsed once into plain values; it knows no transport or store.',
    'config',
    ['domain', 'ports'],
  ),
  standsOn(
    'contract-maps-proto-and-domain-only',
    'The proto ⇄ domain mappings use the generated code, the domain and the ports, nothing with I/O.',
    'contract',
    ['domain', 'ports', 'gen'],
  ),
  standsOn(
    'auth-stays-beside-the-transport',
    'Authentication reads keys and tokens; it does not reach into stores, outbox or webhook ingress.',
    'auth',
    ['app', 'domain', 'ports', 'config', 'gen', 'telemetry'],
  ),
  {
    name: 'composition-root-is-on-top',
    severity: 'error',
    comment: 'Nothing in src/ imports the composition root (main.ts starts it).',
    from: { path: '^src/', pathNot: '^src/main\\.ts$' },
    to: { path: '^src/(service|main)\\.ts$' },
  },
  {
    name: 'src-names-no-adapter',
    severity: 'error',
    comment: 'Only the composition root (src/service.ts) loads adapters; the core knows provider modules by port.',
    from: { path: '^src/', pathNot: '^src/service\\.ts$' },
    to: { path: '^adapters/' },
  },
  {
    name: 'adapters-stand-apart',
    severity: 'error',
    comment: 'An adapter never imports another adapter; what they share lives in adapters/kit.',
    from: { path: '^adapters/([^/]+)/' },
    to: { path: '^adapters/', pathNot: '^adapters/($1|kit)/' },
  },
  {
    name: 'adapters-reach-core-through-ports',
    severity: 'error',
    comment: 'Adapters implement ports with domain types; app, stores and transports are not theirs to call.',
    from: { path: '^adapters/' },
    to: { path: '^src/', pathNot: '^src/(domain|ports)/' },
  },
  {
    name: 'emulators-stand-alone',
    severity: 'error',
    comment:
      "An emulator plays the provider: it uses only its own folder, adapters/kit and node, never its adapter's " +
      'mapping, wire types or client (tests must still catch mapping mistakes) and never src/.',
    from: { path: '^adapters/([^/]+)/emulator/' },
    to: { dependencyTypesNot: ['core'], pathNot: '^adapters/($1/emulator|kit)/' },
  },
];

module.exports = {
  forbidden: rules.flatMap(withExceptions),
  options: {
    // Type-only imports are dependencies too: a type from the store is still knowledge of the store.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Generated code and tests are cruised as leaves: imports of them are checked, their own imports are not.
    doNotFollow: { path: ['^node_modules/', '^test/', '^src/gen/'] },
    moduleSystems: ['cjs', 'es6'],
    // Subpath exports (`@bufbuild/protobuf/wire`) resolve as Node resolves them.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'node', 'default', 'types'] },
  },
};
