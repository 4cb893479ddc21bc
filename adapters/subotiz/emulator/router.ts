/** A method and a path template such as `/api/v1/subscription/{id}/cancel`, bound to a handler. */
export interface Route<H> {
  method: string;
  /** As declared, e.g. `/api/v1/subscription/{id}/cancel` (listings show it). */
  template: string;
  pattern: RegExp;
  names: string[];
  handler: H;
}

/** Declares a route; `{name}` segments become params. */
export function route<H>(method: string, template: string, handler: H): Route<H> {
  const names: string[] = [];
  const source = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { method, template, pattern: new RegExp(`^${source}$`), names, handler };
}

/** The route for this method and path, with its params decoded. */
export function findRoute<H>(
  routes: readonly Route<H>[],
  method: string,
  path: string,
): { handler: H; params: Record<string, string> } | undefined {
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const match = candidate.pattern.exec(path);
    if (!match) continue;
    const params: Record<string, string> = {};
    candidate.names.forEach((name, index) => {
      params[name] = decodeSegment(match[index + 1] ?? '');
    });
    return { handler: candidate.handler, params };
  }
  return undefined;
}

// A malformed escape is just an id that will not be found, not a crash.
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
