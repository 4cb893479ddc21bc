import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, invalidParameter } from './errors';

const MAX_BODY_BYTES = 1024 * 1024;

/** Reads the raw request body (the Hub signature is computed over the exact bytes). */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw invalidParameter('body', `must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Writes a JSON (or pre-serialized) body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Writes an HTML page. */
export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
  res.end(html);
}

/** The success envelope. */
export function successBody(data: unknown): string {
  return JSON.stringify({ code: 'success', message: 'success', data });
}

/** The error envelope for an ApiError, or a 500 for anything unexpected. */
export function errorReply(error: unknown): { status: number; body: string } {
  if (error instanceof ApiError) {
    return { status: error.status, body: JSON.stringify({ code: error.code, message: error.message }) };
  }
  return { status: 500, body: JSON.stringify({ code: 'internalError', message: `internal error: ${String(error)}` }) };
}
