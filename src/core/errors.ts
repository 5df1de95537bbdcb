/**
 * One error class for everything a user can cause or fix. The CLI prints `message` (and the
 * hint) as one line; anything that is not a DriveseedError is a bug and prints a trace only
 * with --debug. `code` is stable so scripts and tests can match on it.
 */
export type ErrorCode =
  | 'USAGE'
  | 'WRONG_PASSWORD'
  | 'NOT_A_REPOSITORY'
  | 'REPOSITORY_EXISTS'
  | 'UNSUPPORTED_VERSION'
  | 'UNSUPPORTED_PLATFORM'
  | 'LOCKED'
  | 'NOT_FOUND'
  | 'CORRUPT'
  | 'AMBIGUOUS'
  | 'IO'
  | 'STORAGE'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'CONFLICT'
  | 'UNTRUSTED'
  | 'SERVICE';

export class DriveseedError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'DriveseedError';
    this.code = code;
    this.hint = options.hint;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string } {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}

export function isDriveseedError(e: unknown, code?: ErrorCode): e is DriveseedError {
  return e instanceof DriveseedError && (code === undefined || e.code === code);
}
