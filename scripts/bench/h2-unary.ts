/**
 * A unary gRPC call over one `node:http2` session, with nothing else: the message framed by hand, metadata as plain
 * headers, the status read from the trailers. The bench's light write client: a grpc-js client allocates enough per
 * call (its call stack, metadata and status objects) that its own collector showed in the write row's tail at half
 * load, where the raw `pg` baseline's client does not (README: Development).
 */
import http2 from 'node:http2';
import { grpcFrame } from './c-client';

/** As long as `call` waits for an answer; grpc-timeout tells the server the same. */
const DEADLINE_SECONDS = 30;

export class H2Unary {
  private readonly session: http2.ClientHttp2Session;

  constructor(address: string) {
    this.session = http2.connect(`http://${address}`);
    // A session error also fails each open stream, which is where a call hears of it.
    this.session.on('error', () => undefined);
  }

  /** Answers the response message's bytes; rejects on any status but OK, naming it, and on a malformed answer. */
  call(path: string, message: Uint8Array, metadata: Record<string, string>): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const stream = this.session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${DEADLINE_SECONDS}S`,
        ...metadata,
      });
      stream.setTimeout(DEADLINE_SECONDS * 1000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let details: string | undefined;
      const statusFrom = (headers: http2.IncomingHttpHeaders) => {
        status ??= headers['grpc-status'] as string | undefined;
        details ??= headers['grpc-message'] as string | undefined;
      };
      // A refusal may come as headers alone ("trailers-only"): the status is then in the response headers.
      stream.on('response', statusFrom);
      stream.on('trailers', statusFrom);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (status !== '0') return reject(new Error(`${path}: grpc-status ${status ?? 'missing'} ${details ?? ''}`));
        const body = Buffer.concat(chunks);
        // One uncompressed message, whole: flag 0, its length, then exactly that many bytes.
        if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
          return reject(new Error(`${path}: not one uncompressed gRPC message (${body.length} bytes)`));
        }
        resolve(body.subarray(5));
      });
      // Whatever ended the stream without an answer (a reset, the timeout, the session's end) fails the call;
      // after 'end' has settled it, this changes nothing.
      stream.on('error', reject);
      stream.on('close', () => reject(new Error(`${path}: the stream closed without an answer`)));
      stream.end(grpcFrame(message));
    });
  }

  close(): Promise<void> {
    // close()'s callback never comes for a session already closed or destroyed (a refused connection, say).
    if (this.session.closed || this.session.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.session.close(() => resolve()));
  }
}
