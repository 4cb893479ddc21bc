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

/** The clock and fault controls every kit-built emulator offers (`/clock`, `/charges/fail-next`, `/webhooks/faults`). */
export interface ClockAndFaultControls {
  /** The emulator's clock. */
  now(): Promise<Date>;
  advanceClock(seconds: number): Promise<void>;
  /** Moves the emulator's clock to `date` plus `extraSeconds` (default a minute). */
  advancePast(date: Date, extraSeconds?: number): Promise<void>;
  failNextCharges(count: number): Promise<void>;
  dropNextWebhooks(count: number): Promise<void>;
}

export function clockAndFaultControls(baseUrl: string): ClockAndFaultControls {
  const controls: ClockAndFaultControls = {
    async now() {
      return new Date((await emulatorControl<{ now: string }>(baseUrl, '/clock')).now);
    },
    async advanceClock(seconds) {
      await emulatorControl(baseUrl, '/clock/advance', { seconds });
    },
    async advancePast(date, extraSeconds = 60) {
      const now = await controls.now();
      await controls.advanceClock(Math.max(0, Math.ceil((date.getTime() - now.getTime()) / 1000)) + extraSeconds);
    },
    async failNextCharges(count) {
      await emulatorControl(baseUrl, '/charges/fail-next', { count });
    },
    async dropNextWebhooks(count) {
      await emulatorControl(baseUrl, '/webhooks/faults', { mode: 'drop', count });
    },
  };
  return controls;
}
