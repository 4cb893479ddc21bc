/**
 * A failure the kit answers over HTTP. Each emulator turns it into its provider's error body (status and message
 * kept), so the kit never invents a provider's envelope.
 */
export class EmulatorError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'EmulatorError';
  }
}

/** 400 whose message starts with the field: `seconds: must be an integer between 0 and …`. */
export function invalidInput(field: string, rule: string): EmulatorError {
  return new EmulatorError(400, `${field}: ${rule}`);
}

/** 404 for a path or an id nobody knows. */
export function nothingAt(message: string): EmulatorError {
  return new EmulatorError(404, message);
}
