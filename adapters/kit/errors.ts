import { DomainError } from '../../src/domain/errors';
import { scrubSecrets } from '../../src/domain/secret-scrub';

/** Which provider call an error belongs to. */
export interface ProviderCallName {
  provider: string;
  operation: string;
}

/**
 * The provider could not be reached, kept failing, or refused to be asked again in time; nothing suggests the call
 * took effect (a read, a refused or a never-sent request). UNAVAILABLE: the caller may retry.
 */
export class ProviderUnavailable extends DomainError {
  readonly provider: string;
  readonly operation: string;

  constructor(call: ProviderCallName, message: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, [], options);
    this.name = 'ProviderUnavailable';
    this.provider = call.provider;
    this.operation = call.operation;
  }
}

/**
 * A non-replayable request may or may not have taken effect (timeout after sending, reset mid-flight, 5xx). Also
 * UNAVAILABLE for the caller, but the adapter must not send it again blindly: it asks the provider what became of it.
 */
export class AmbiguousOutcome extends DomainError {
  readonly provider: string;
  readonly operation: string;

  constructor(call: ProviderCallName, message: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, [], options);
    this.name = 'AmbiguousOutcome';
    this.provider = call.provider;
    this.operation = call.operation;
  }
}

/**
 * The kit's error with its leading `<provider> <operation>` replaced by an adapter's own wording (the storefront, the
 * provider's display name), keeping its class; any other error is returned as it is.
 */
export function relabel(error: unknown, label: string): unknown {
  if (!(error instanceof ProviderUnavailable) && !(error instanceof AmbiguousOutcome)) return error;
  const own = `${error.provider} ${error.operation}`;
  const message = error.message.startsWith(own)
    ? `${label}${error.message.slice(own.length)}`
    : `${label}: ${error.message}`;
  const Kind = error instanceof AmbiguousOutcome ? AmbiguousOutcome : ProviderUnavailable;
  return new Kind(error, message, { cause: error.cause });
}

/**
 * The error as it may leave an adapter: message, violations and the cause's message with every secret removed (in
 * any encoding a provider might echo it in), keeping the kit's error class so callers can still tell them apart.
 * Anything thrown is read by shape: errors from another realm (fetch's, in test sandboxes) are not `instanceof Error`.
 */
export function scrubError(error: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0) return error;
  const { message: raw, cause: rawCause } = shapeOf(error);
  const message = scrubSecrets(raw, secrets);
  const cause = rawCause === undefined ? undefined : scrubCause(rawCause, secrets);
  if (error instanceof ProviderUnavailable) return new ProviderUnavailable(error, message, { cause });
  if (error instanceof AmbiguousOutcome) return new AmbiguousOutcome(error, message, { cause });
  if (error instanceof DomainError) {
    return new DomainError(
      error.code,
      message,
      error.violations.map((v) => ({ field: scrubSecrets(v.field, secrets), rule: scrubSecrets(v.rule, secrets) })),
      { cause },
    );
  }
  return new Error(message, { cause });
}

function shapeOf(thrown: unknown): { message: string; cause?: unknown; code?: unknown } {
  if (typeof thrown === 'object' && thrown !== null) {
    const { message, cause, code } = thrown as { message?: unknown; cause?: unknown; code?: unknown };
    return { message: typeof message === 'string' ? message : 'error', cause, code };
  }
  return { message: String(thrown) };
}

/** A cause reduced to its (scrubbed) message and error code: the original may hold request headers. */
function scrubCause(cause: unknown, secrets: readonly string[]): Error {
  const { message, code } = shapeOf(cause);
  const clean = new Error(scrubSecrets(message, secrets)) as Error & { code?: string };
  if (typeof code === 'string') clean.code = scrubSecrets(code, secrets);
  return clean;
}
