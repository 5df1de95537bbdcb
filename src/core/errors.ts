/**
 * One error class for everything a user can cause or fix. The CLI prints `message` (and the
 * hint) as one line; anything that is not a DriveseedError is a bug and prints a trace only
 * with --debug. `code` is stable so scripts and tests can match on it; the service answers
 * each code with its own HTTP status (src/api/wire-errors.ts).
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
  | 'TOO_LARGE'
  | 'TIMEOUT'
  | 'BUSY'
  | 'BAD_RANGE'
  | 'UNTRUSTED'
  | 'SERVICE';

export interface DriveseedErrorOptions {
  hint?: string;
  /** The input at fault (a request field, a flag's value), so a form or a script can point at it. */
  field?: string;
  cause?: unknown;
}

export class DriveseedError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly field?: string;

  constructor(code: ErrorCode, message: string, options: DriveseedErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'DriveseedError';
    this.code = code;
    this.hint = options.hint;
    this.field = options.field;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string; field?: string } {
    return { code: this.code, message: this.message, hint: this.hint, field: this.field };
  }
}

export function isDriveseedError(e: unknown, code?: ErrorCode): e is DriveseedError {
  return e instanceof DriveseedError && (code === undefined || e.code === code);
}
