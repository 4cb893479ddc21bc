import { PinnedClock } from '../../kit/emulator/pinned-clock';
import type { CustomerRecord, MembershipRecord, SessionRecord, TokenRecord } from './records';
import type { PaytikoEmulatorMerchant } from './types';

const DEFAULT_TOKEN_TTL_SECONDS = 900;

/** What is kept on disk (merchants come from the options of each start, not from the file). */
export interface StateSnapshot {
  clockOffsetMs: number;
  customers: CustomerRecord[];
  memberships: MembershipRecord[];
  sessions: SessionRecord[];
  tokens: [string, TokenRecord][];
  tokenTtlSeconds: number | null;
  lastMembershipId: number;
  lastTransactionId: number;
}

/** Everything the emulator knows, by key, on a clock due work pins at its own time (`now`, `at`). */
export class EmulatorState extends PinnedClock {
  readonly merchants = new Map<string, PaytikoEmulatorMerchant>();
  readonly customers = new Map<string, CustomerRecord>();
  readonly memberships = new Map<string, MembershipRecord>();
  readonly sessions = new Map<string, SessionRecord>();
  readonly tokens = new Map<string, TokenRecord>();
  /** The tokens/ttl control: overrides every merchant's lifetime for tokens issued from then on. */
  tokenTtlSeconds: number | null = null;
  private lastMembershipId = 0;
  private lastTransactionId = 1000;

  addMerchant(merchant: PaytikoEmulatorMerchant): void {
    this.merchants.set(merchant.userName, merchant);
  }

  /** Seconds a token issued now for `merchant` lives. */
  tokenTtl(merchant: PaytikoEmulatorMerchant): number {
    return this.tokenTtlSeconds ?? merchant.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  }

  /** Forgets every token that has expired by now (an expired token answers 401 whether it is kept or not). */
  pruneExpiredTokens(): void {
    for (const [token, record] of this.tokens) if (record.expiresAt <= this.now) this.tokens.delete(token);
  }

  nextMembershipId(): number {
    this.lastMembershipId += 1;
    return this.lastMembershipId;
  }

  /** Transaction ids: positive integers, unique across the emulator (so per merchant too). */
  nextTransactionId(): number {
    this.lastTransactionId += 1;
    return this.lastTransactionId;
  }

  snapshot(): StateSnapshot {
    return {
      clockOffsetMs: this.clock.offset(),
      customers: [...this.customers.values()],
      memberships: [...this.memberships.values()],
      sessions: [...this.sessions.values()],
      // Only live tokens: an expired one is as good as unknown, so writing it would only grow the file.
      tokens: [...this.tokens.entries()].filter(([, record]) => record.expiresAt > this.now),
      tokenTtlSeconds: this.tokenTtlSeconds,
      lastMembershipId: this.lastMembershipId,
      lastTransactionId: this.lastTransactionId,
    };
  }

  restore(saved: StateSnapshot): void {
    this.clock.reset(saved.clockOffsetMs);
    for (const customer of saved.customers) this.customers.set(customer.key, customer);
    for (const membership of saved.memberships) this.memberships.set(membership.key, membership);
    for (const session of saved.sessions) this.sessions.set(session.token, session);
    for (const [token, record] of saved.tokens) this.tokens.set(token, record);
    this.tokenTtlSeconds = saved.tokenTtlSeconds;
    this.lastMembershipId = saved.lastMembershipId;
    this.lastTransactionId = saved.lastTransactionId;
  }
}
