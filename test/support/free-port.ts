import fs from 'node:fs';
import { createServer } from 'node:net';

/**
 * A port nothing listens on right now, for a service that must know its port up front (an emulator's webhook URL
 * points at it, or a restart must come back on it), or a call that must find nobody there.
 *
 * The caller binds it later (a child process binds after its migrations, seconds on), so the port is picked below
 * the kernel's ephemeral range: a port from `listen(0)` is one the kernel hands out again, to another test's
 * `listen(0)` or to any outgoing connection's local end, and the child then found it "already in use". Below that
 * range only a process choosing that very port could take it; this process never hands out one port twice.
 */
export async function freePort(): Promise<number> {
  const [low, high] = portsBelowEphemeralRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  return anyPort();
}

const handedOut = new Set<number>();

/** [low, high): from 20000 to the start of the ephemeral range (32768 on Linux by default). */
function portsBelowEphemeralRange(): [number, number] {
  let ephemeralStart = 32_768;
  try {
    const [first] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    if (Number(first) > 21_000) ephemeralStart = Number(first);
  } catch {
    // Not Linux: 32768 is where the BSDs' and macOS' ranges (49152) leave room below too.
  }
  return [20_000, ephemeralStart];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function anyPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
