import type { Failure } from './records';

/** A fault armed on the real API routes (not /__emulator). */
export interface ApiFault {
  remaining: number;
  status: number;
  /** Hang this long before answering (a timeout for the caller). */
  delayMs: number;
  /** Perform the request, then answer `status` anyway: the caller loses a response whose effect happened. */
  after: boolean;
  /** Only requests whose path and query contain this. */
  path?: string;
}

/** Armed API faults, consumed in the order they were armed by the requests they match. */
export class ApiFaults {
  private armed: ApiFault[] = [];

  /** Arms a fault for the next `fault.remaining` matching requests. */
  arm(fault: ApiFault): void {
    this.armed.push(fault);
  }

  /** The fault this request takes, if any (one unit of its count is used up). */
  take(pathAndQuery: string): ApiFault | undefined {
    const fault = this.armed.find((f) => f.path === undefined || pathAndQuery.includes(f.path));
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.armed = this.armed.filter((f) => f !== fault);
    return fault;
  }

  /** Disarms everything. */
  clear(): void {
    this.armed = [];
  }
}

/** "Fail the next N": charges or refunds that will fail, each with the failure it reports. */
export class FailNext {
  private remaining = 0;
  private failure: Failure;

  constructor(private readonly fallback: Failure) {
    this.failure = fallback;
  }

  /** The next `count` attempts fail with this code and message. */
  arm(count: number, failure?: Partial<Failure>): void {
    this.remaining = count;
    this.failure = { code: failure?.code ?? this.fallback.code, message: failure?.message ?? this.fallback.message };
  }

  /** The failure for this attempt, or undefined when it should succeed. */
  take(): Failure | undefined {
    if (this.remaining <= 0) return undefined;
    this.remaining -= 1;
    return { ...this.failure };
  }

  /** Disarms. */
  clear(): void {
    this.remaining = 0;
  }
}
