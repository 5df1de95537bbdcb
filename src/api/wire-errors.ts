import { DriveseedError, type ErrorCode } from '../core/errors.js';
import type { ErrorBody } from './schemas.js';

interface WireError {
  status: number;
  /** The body's `error`: stable, so clients, the console and scripts can match on it. */
  error: string;
}

/**
 * How every error code crosses HTTP, both ways: the service answers a DriveseedError with its
 * code's status and `error`, and the typed client turns that answer back into the same code.
 * Codes about the request are 4xx; codes about the service's own data or the storage behind it
 * are 5xx, whose message stays in the service log. USAGE has always been BAD_REQUEST on the wire.
 */
const WIRE_ERRORS: Record<ErrorCode, WireError> = {
  USAGE: { status: 400, error: 'BAD_REQUEST' },
  AMBIGUOUS: { status: 400, error: 'AMBIGUOUS' },
  UNAUTHORIZED: { status: 401, error: 'UNAUTHORIZED' },
  FORBIDDEN: { status: 403, error: 'FORBIDDEN' },
  WRONG_PASSWORD: { status: 403, error: 'WRONG_PASSWORD' },
  NOT_FOUND: { status: 404, error: 'NOT_FOUND' },
  NOT_A_REPOSITORY: { status: 404, error: 'NOT_A_REPOSITORY' },
  CONFLICT: { status: 409, error: 'CONFLICT' },
  REPOSITORY_EXISTS: { status: 409, error: 'REPOSITORY_EXISTS' },
  LOCKED: { status: 409, error: 'LOCKED' },
  TOO_LARGE: { status: 413, error: 'TOO_LARGE' },
  /** A request body that stalled or took too long to send. */
  TIMEOUT: { status: 408, error: 'TIMEOUT' },
  /** A caller at its limit of something it holds open (event streams): close one, or try later. */
  BUSY: { status: 429, error: 'BUSY' },
  /** A byte range that does not lie within the blob. */
  BAD_RANGE: { status: 416, error: 'BAD_RANGE' },
  CORRUPT: { status: 500, error: 'CORRUPT' },
  IO: { status: 500, error: 'IO' },
  UNSUPPORTED_VERSION: { status: 500, error: 'UNSUPPORTED_VERSION' },
  UNSUPPORTED_PLATFORM: { status: 500, error: 'UNSUPPORTED_PLATFORM' },
  SERVICE: { status: 502, error: 'SERVICE' },
  UNTRUSTED: { status: 502, error: 'UNTRUSTED' },
  STORAGE: { status: 503, error: 'STORAGE' },
};

/** What an error answer means when its body names no code of this table: a proxy's page, a framework's own refusal. */
const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = { 400: 'USAGE', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 409: 'CONFLICT' };

const CODE_BY_ERROR = new Map(Object.entries(WIRE_ERRORS).map(([code, wire]) => [wire.error, code as ErrorCode]));

export function httpStatusOf(code: ErrorCode): number {
  return WIRE_ERRORS[code].status;
}

/** The service's answer to a DriveseedError. */
export function errorAnswer(e: DriveseedError): { status: number; body: ErrorBody } {
  const { status, error } = WIRE_ERRORS[e.code];
  const message = status < 500 ? e.message : `internal error (${e.code}); see the service log`;
  return { status, body: { error, message, ...(e.field ? { field: e.field } : {}) } };
}

/** The client's DriveseedError for an error answer; `what` names the request, so the user knows which call failed. */
export function errorFromAnswer(status: number, body: Partial<ErrorBody>, what: string): DriveseedError {
  const named = body.error === undefined ? undefined : CODE_BY_ERROR.get(body.error);
  const code = named !== undefined && WIRE_ERRORS[named].status === status ? named : (CODE_BY_STATUS[status] ?? 'SERVICE');
  const field = body.field ? ` (field ${body.field})` : '';
  return new DriveseedError(code, `${what}: ${body.message ?? `HTTP ${status}`}${field}`, { field: body.field });
}
