/**
 * kafkajs' encoder for one record of a produce request (`protocol/recordBatch/record/v0`), rewritten to write the
 * record into one buffer. kafkajs builds each record from a fresh zero-filled 512-byte encoder per record and per
 * header, and a new `Buffer` per varint (about forty allocations per CloudEvents message with its eleven headers):
 * most of the Kafka thread's CPU per event was that and its garbage. The bytes are the same (the unit test compares
 * them with kafkajs' own encoder); a record this does not cover the same way (a key, value or header value that is
 * neither a string nor a Buffer, an offset or timestamp delta that is not an integer within ±2^30) goes to kafkajs'
 * encoder unchanged.
 *
 * kafkajs 2.2.4 is its last release, so its internals no longer move; `useFastRecordEncoding` still checks the
 * version it patches and leaves any other alone.
 */
import path from 'node:path';

/** What kafkajs' produce request passes its record encoder (a message plus its position in the batch). */
export interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: Record<string, unknown>;
}

/** kafkajs' Encoder, as far as a record batch reads a record: its bytes are `buf` up to `offset`. */
interface EncoderLike {
  buf: Buffer;
  offset: number;
}
type RecordEncoder = (input: RecordInput) => EncoderLike;

const PATCHED_VERSION = '2.2.4';
/** Within this, 32-bit zigzag (as here) and kafkajs' Long-based varlong agree; beyond it, kafkajs encodes. */
const SMALL_VARINT = 2 ** 30;

/** The bytes of one record, exactly as kafkajs 2.2.4 encodes it; undefined when kafkajs should encode it itself. */
export function encodeRecord(input: RecordInput): Buffer | undefined {
  const { offsetDelta = 0, timestampDelta = 0, key, value, headers = {} } = input;
  if (!smallInteger(offsetDelta) || !smallInteger(timestampDelta)) return undefined;
  if (!bytesLike(key) || !bytesLike(value)) return undefined;
  // kafkajs writes one header per value of an array, under the same key.
  const names: string[] = [];
  const values: (Buffer | string)[] = [];
  for (const name of Object.keys(headers)) {
    const entry = headers[name];
    for (const one of Array.isArray(entry) ? entry : [entry]) {
      if (typeof one !== 'string' && !Buffer.isBuffer(one)) return undefined;
      names.push(name);
      values.push(one);
    }
  }
  let headersSize = varIntSize(names.length);
  for (let i = 0; i < names.length; i++) headersSize += bytesSize(names[i]!) + bytesSize(values[i]!);
  const bodySize =
    1 + varIntSize(timestampDelta) + varIntSize(offsetDelta) + bytesSize(key) + bytesSize(value) + headersSize;

  const out = Buffer.allocUnsafe(varIntSize(bodySize) + bodySize);
  let at = writeVarInt(out, 0, bodySize);
  out[at++] = 0; // attributes: none are used per record
  at = writeVarInt(out, at, timestampDelta);
  at = writeVarInt(out, at, offsetDelta);
  at = writeBytes(out, at, key);
  at = writeBytes(out, at, value);
  at = writeVarInt(out, at, names.length);
  for (let i = 0; i < names.length; i++) {
    at = writeBytes(out, at, names[i]!);
    at = writeBytes(out, at, values[i]!);
  }
  // Cannot happen while sizing and writing agree (the unit test compares them with kafkajs); if it ever did, kafkajs
  // encodes the record rather than a send failing.
  return at === out.length ? out : undefined;
}

/**
 * Makes kafkajs' produce requests encode their records with `encodeRecord`, in this thread (each worker thread has
 * its modules of its own). kafkajs binds the record encoder when it loads its produce request, on the first send:
 * returns false (and changes nothing) when that has already happened with kafkajs' own encoder, or for a kafkajs
 * other than the version this copies.
 */
export function useFastRecordEncoding(): boolean {
  /* eslint-disable @typescript-eslint/no-require-imports -- kafkajs' internals have no typed entry points */
  const root = path.dirname(require.resolve('kafkajs/package.json'));
  const { version } = require(path.join(root, 'package.json')) as { version: string };
  if (version !== PATCHED_VERSION) return false;
  const file = require.resolve(path.join(root, 'src/protocol/recordBatch/record/v0'));
  const Encoder = require(path.join(root, 'src/protocol/encoder')) as { prototype: object };
  require(file);
  const loaded = require.cache[file]!;
  const stock = loaded.exports as RecordEncoder & { fast?: true };
  if (stock.fast) return true;
  // Already loaded, it holds kafkajs' own encoder for good.
  if (require.cache[require.resolve(path.join(root, 'src/protocol/requests/produce/v3/request'))]) return false;
  const fast = (input: RecordInput): EncoderLike => {
    const bytes = encodeRecord(input);
    if (!bytes) return stock(input);
    // A finished kafkajs Encoder around the bytes: the record batch copies `buf` up to `offset`.
    const encoder = Object.create(Encoder.prototype) as EncoderLike;
    encoder.buf = bytes;
    encoder.offset = bytes.length;
    return encoder;
  };
  loaded.exports = Object.assign(fast, { fast: true as const });
  return true;
  /* eslint-enable @typescript-eslint/no-require-imports */
}

function smallInteger(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > -SMALL_VARINT && n < SMALL_VARINT;
}

function bytesLike(v: unknown): v is Buffer | string | null | undefined {
  return v == null || typeof v === 'string' || Buffer.isBuffer(v);
}

/** A length-prefixed field: the varint length (-1 for null) and the bytes. */
function bytesSize(v: Buffer | string | null | undefined): number {
  if (v == null) return 1;
  const n = typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
  return varIntSize(n) + n;
}

function writeBytes(out: Buffer, at: number, v: Buffer | string | null | undefined): number {
  if (v == null) return writeVarInt(out, at, -1);
  if (typeof v === 'string') {
    const n = Buffer.byteLength(v, 'utf8');
    at = writeVarInt(out, at, n);
    return at + out.write(v, at, n, 'utf8');
  }
  at = writeVarInt(out, at, v.length);
  return at + v.copy(out, at);
}

/** Zigzag, then 7 bits per byte, low first (Kafka's varint). */
function varIntSize(n: number): number {
  let u = ((n << 1) ^ (n >> 31)) >>> 0;
  let size = 1;
  while (u >= 0x80) {
    u >>>= 7;
    size += 1;
  }
  return size;
}

function writeVarInt(out: Buffer, at: number, n: number): number {
  let u = ((n << 1) ^ (n >> 31)) >>> 0;
  while (u >= 0x80) {
    out[at++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  out[at++] = u;
  return at;
}
