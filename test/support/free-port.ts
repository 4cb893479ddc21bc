import { createServer } from 'node:net';

/**
 * A port nothing listens on right now: the OS hands one out and we give it back. For a service that must know its
 * port up front (an emulator's webhook URL points at it, or a restart must come back on it), or a call that must
 * find nobody there.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
