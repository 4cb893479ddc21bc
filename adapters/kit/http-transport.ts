// Placeholder until the kit's transport lands (branch h1-kit-http); never committed to main.
import type { HttpTransport } from '../../src/ports/http-transport.port';
export function createHttpTransport(): HttpTransport {
  return {
    send: () => Promise.reject(new Error('kit transport not merged yet')),
  };
}
