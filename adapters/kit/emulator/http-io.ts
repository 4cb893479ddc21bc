import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidInput } from './errors';

/** The default request body limit: what a provider's API gateway would accept, and far more than any call needs. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A parsed JSON request body. */
export type Body = Record<string, unknown>;

/**
 * Reads the raw request body (signatures are computed over the exact bytes). Past `limit` bytes it stops reading
 * and throws a 400 naming `body`, so a huge upload cannot fill the emulator's memory.
 */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw invalidInput('body', `must be at most ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a request body; an empty body is `{}`. Anything but a JSON object is a 400 naming `body`. */
export function parseBody(raw: string): Body {
  if (raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidInput('body', 'is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidInput('body', 'must be a JSON object');
  }
  return parsed as Body;
}

/** Writes a JSON (or pre-serialized) body. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** Writes an HTML page. */
export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
  res.end(html);
}

/** The path of a request URL without its query, or undefined when it is not a URL path at all. */
export function pathOf(url: string): string | undefined {
  try {
    return new URL(url, 'http://emulator').pathname;
  } catch {
    return undefined;
  }
}
