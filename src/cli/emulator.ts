import type { CheckoutSession } from '../gen/billing/v1/subscription';
import type { CliClient } from './client';
import { oneLine } from './output';

/** Thrown when an emulator call fails or the emulator refuses it; printed as `error: <status>: <message>`. */
export class EmulatorError extends Error {
  constructor(
    readonly status: string,
    message: string,
  ) {
    super(message);
    this.name = 'EmulatorError';
  }
}

/**
 * Pays or declines a checkout on the storefront's emulator as the buyer would. Emulators expose this in one of two
 * shapes (see adapters/kit/README.md and each emulator's controls): a control keyed by the provider's session id
 * (`/__emulator/sessions/{ref}/complete|decline`), or the hosted page's own buttons (`<redirect_url>/pay|decline`).
 * Both are tried in that order, so the CLI needs no knowledge of which provider a storefront uses.
 */
export async function settleOnEmulator(
  emulator: EmulatorAt,
  session: CheckoutSession,
  outcome: 'complete' | 'decline',
): Promise<string> {
  const candidates: string[] = [];
  if (session.providerRef !== '') {
    candidates.push(`${emulator.baseUrl}/__emulator/sessions/${encodeURIComponent(session.providerRef)}/${outcome}`);
  }
  const page = session.nextAction?.redirectUrl ?? session.url;
  if (page) candidates.push(`${page.replace(/\/$/, '')}/${outcome === 'complete' ? 'pay' : 'decline'}`);
  if (candidates.length === 0) {
    throw new EmulatorError('FAILED_PRECONDITION', `checkout session ${session.id} has nothing to pay on a page`);
  }
  for (const url of candidates) {
    const answer = await callEmulator(emulator, url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      redirect: 'manual',
    });
    // A hosted page answers its form with a redirect back to the shop; a control answers 200.
    if (answer.status < 400) return url;
    if (answer.status !== 404) throw refusal(url, answer);
  }
  throw new EmulatorError('NOT_FOUND', `the emulator at ${emulator.baseUrl} has no page or control for this checkout`);
}

/** Where a storefront's emulator answers, and how long the CLI waits for one answer from it. */
export interface EmulatorAt {
  baseUrl: string;
  timeoutMs: number;
}

/**
 * The emulator a storefront is bound to: the binding's `base_url` (an emulator serves each provider under its own
 * path), else BILLING_EMULATOR_URL.
 */
export async function storefrontEmulator(client: CliClient, storefrontId: string): Promise<EmulatorAt> {
  const { storefront } = await client.api.storefronts.getStorefront({ storefrontId });
  const baseUrl = storefront!.binding?.config.base_url || client.endpoint.emulatorUrl;
  return { baseUrl: baseUrl.replace(/\/$/, ''), timeoutMs: client.endpoint.emulatorTimeoutMs };
}

/**
 * One of the standard `/__emulator` controls (adapters/kit/emulator/controls.ts): plain JSON in and out, no auth.
 * Answers the control's JSON.
 */
export async function emulatorControl(
  emulator: EmulatorAt,
  method: 'GET' | 'POST',
  path: string,
  body?: Record<string, unknown>,
): Promise<unknown> {
  const url = `${emulator.baseUrl}/__emulator/${path}`;
  const answer = await callEmulator(emulator, url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (answer.status >= 300) throw refusal(url, answer);
  try {
    return JSON.parse(answer.body) as unknown;
  } catch {
    throw new EmulatorError('UNKNOWN', `emulator at ${url}: not JSON: ${oneLine(answer.body)}`);
  }
}

interface EmulatorAnswer {
  status: number;
  body: string;
}

/**
 * One request to the emulator, body read in full, within the emulator's timeout: fetch alone waits for an answer
 * that never comes for about 300 s. An unreachable or silent emulator is one error line naming the URL.
 */
async function callEmulator(emulator: EmulatorAt, url: string, init: RequestInit): Promise<EmulatorAnswer> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(emulator.timeoutMs) });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') {
      throw new EmulatorError('DEADLINE_EXCEEDED', `emulator at ${url}: no answer within ${emulator.timeoutMs} ms`);
    }
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new EmulatorError('UNAVAILABLE', `emulator at ${url}: ${oneLine(cause)}`);
  }
}

/** The emulator's answer as one line: its HTTP status and the start of its body. */
function refusal(url: string, answer: EmulatorAnswer): EmulatorError {
  return new EmulatorError(`HTTP ${answer.status}`, `emulator at ${url}: ${oneLine(answer.body.slice(0, 300))}`);
}
