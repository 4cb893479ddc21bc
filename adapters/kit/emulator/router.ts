/** A method and a path template such as `/api/v1/subscription/{id}/cancel`, bound to a handler. */
export interface Route<H> {
  method: string;
  /** As declared, e.g. `/api/v1/subscription/{id}/cancel` (listings show it). */
  template: string;
  pattern: RegExp;
  names: string[];
  handler: H;
}

/** What a lookup found: a handler with its decoded params, a path known only for other methods (405), or nothing. */
export type RouteMatch<H> =
  | { kind: 'found'; handler: H; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

/** Declares a route; `{name}` segments become params. */
export function route<H>(method: string, template: string, handler: H): Route<H> {
  const names: string[] = [];
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  const source = escaped.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { method, template, pattern: new RegExp(`^${source}$`), names, handler };
}

/** The route for this method and path (first declared wins), or why there is none. */
export function matchRoute<H>(routes: readonly Route<H>[], method: string, path: string): RouteMatch<H> {
  const allowed: string[] = [];
  for (const candidate of routes) {
    const match = candidate.pattern.exec(path);
    if (!match) continue;
    if (candidate.method !== method) {
      allowed.push(candidate.method);
      continue;
    }
    const params: Record<string, string> = {};
    candidate.names.forEach((name, index) => {
      params[name] = decodeSegment(match[index + 1] ?? '');
    });
    return { kind: 'found', handler: candidate.handler, params };
  }
  return allowed.length > 0 ? { kind: 'method-not-allowed', allowed: [...new Set(allowed)] } : { kind: 'not-found' };
}

/** The route for this method and path with its params, or undefined (either miss). */
export function findRoute<H>(
  routes: readonly Route<H>[],
  method: string,
  path: string,
): { handler: H; params: Record<string, string> } | undefined {
  const match = matchRoute(routes, method, path);
  return match.kind === 'found' ? match : undefined;
}

// A malformed escape is just an id that will not be found, not a crash.
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
