import { generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A test identity provider: signs JWTs with its own keys and serves their JWKS over HTTP. */
export interface JwtIssuer {
  jwksUrl: string;
  /** How many times the JWKS was fetched. */
  fetches(): number;
  /** A token signed with key `kid` (default: the RS256 key). */
  token(claims: Record<string, unknown>, options?: { alg?: 'RS256' | 'ES256'; kid?: string; key?: KeyObject }): string;
  /** Adds a key to the served set (rotation). */
  addKey(kid: string): void;
  close(): Promise<void>;
}

export async function startJwtIssuer(): Promise<JwtIssuer> {
  const keys = new Map<string, { alg: 'RS256' | 'ES256'; privateKey: KeyObject; publicKey: KeyObject }>();
  const add = (kid: string, alg: 'RS256' | 'ES256') => {
    const pair =
      alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    keys.set(kid, { alg, ...pair });
  };
  add('rsa-1', 'RS256');
  add('ec-1', 'ES256');
  let fetches = 0;
  const server = http.createServer((_req, res) => {
    fetches++;
    const jwks = [...keys].map(([kid, k]) => ({
      ...k.publicKey.export({ format: 'jwk' }),
      kid,
      alg: k.alg,
      use: 'sig',
    }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwks }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    fetches: () => fetches,
    token(claims, options = {}) {
      const alg = options.alg ?? 'RS256';
      const kid = options.kid ?? (alg === 'RS256' ? 'rsa-1' : 'ec-1');
      const key = options.key ?? keys.get(kid)!.privateKey;
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const signed = `${encode({ alg, kid, typ: 'JWT' })}.${encode(claims)}`;
      const signature = sign('sha256', Buffer.from(signed), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
      return `${signed}.${signature.toString('base64url')}`;
    },
    addKey: (kid) => add(kid, 'RS256'),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
