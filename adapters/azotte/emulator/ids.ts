import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A 26-character ULID (10 time characters from `nowMs`, 16 random), as Azotte's prefixed ids carry (item 8). */
export function ulid(nowMs: number): string {
  let time = '';
  let t = nowMs;
  for (let i = 0; i < 10; i += 1) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let random = '';
  for (const byte of randomBytes(16)) random += CROCKFORD[byte % 32];
  return time + random;
}

/** `prefix` + ULID: `of_…`, `trk_…`, `or_…`, `pa_…`, `it_…`, `3ds_…`, `ev_…`, `ent_…`, `req_…`. */
export function prefixedId(prefix: string, nowMs: number): string {
  return `${prefix}${ulid(nowMs)}`;
}
