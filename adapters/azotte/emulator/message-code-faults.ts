import { AzotteError } from './answers';

interface ArmedCode {
  code: string;
  path?: string;
  remaining: number;
}

/**
 * The messageCode fault control (item 48): the next `count` API calls whose path contains `path` answer `code`
 * with its HTTP status and envelope, doing nothing. For codes no ordinary request produces.
 */
export class MessageCodeFaults {
  private armed: ArmedCode[] = [];

  arm(code: string, remaining: number, path?: string): void {
    this.armed.push({ code, remaining, path });
  }

  /** The refusal this call takes, if one is armed for it (one unit of its count is used up). */
  take(pathAndQuery: string): AzotteError | undefined {
    const fault = this.armed.find((f) => f.path === undefined || pathAndQuery.includes(f.path));
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.armed = this.armed.filter((f) => f !== fault);
    const errors = fault.code === 'INVALID_REQUEST' ? [{ field: 'customer.email', message: 'emulator fault' }] : [];
    const extra = fault.code === 'CUSTOMER_ALREADY_STORED' ? { result: null } : {};
    return new AzotteError(fault.code, `emulator fault: ${fault.code}`, errors, extra);
  }

  clear(): void {
    this.armed = [];
  }
}
