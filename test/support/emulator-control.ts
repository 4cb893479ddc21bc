/**
 * Calls an emulator's `/__emulator/…` control (what a test does to the provider's world: clocks, faults, hosted
 * pages) and returns its JSON; throws on a non-2xx, naming the control and the answer.
 */
export async function emulatorControl<T = Record<string, unknown>>(
  baseUrl: string,
  path: string,
  body?: unknown,
  method = body === undefined ? 'GET' : 'POST',
): Promise<T> {
  const response = await fetch(`${baseUrl}/__emulator${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`emulator ${method} ${path} → ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}
