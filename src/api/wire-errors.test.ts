import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DriveseedError, type ErrorCode } from '../core/errors.js';
import { errorAnswer, errorFromAnswer, httpStatusOf } from './wire-errors.js';

const CODES: ErrorCode[] = [
  'USAGE',
  'WRONG_PASSWORD',
  'NOT_A_REPOSITORY',
  'REPOSITORY_EXISTS',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_PLATFORM',
  'LOCKED',
  'NOT_FOUND',
  'CORRUPT',
  'AMBIGUOUS',
  'IO',
  'STORAGE',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'CONFLICT',
  'TOO_LARGE',
  'TIMEOUT',
  'BUSY',
  'BAD_RANGE',
  'UNTRUSTED',
  'SERVICE',
];

describe('error codes on the wire', () => {
  it('every code crosses HTTP and comes back as itself, with its field', () => {
    for (const code of CODES) {
      const { status, body } = errorAnswer(new DriveseedError(code, 'what went wrong', { field: 'name' }));
      assert.equal(status, httpStatusOf(code));
      const back = errorFromAnswer(status, body, 'PUT /v1/x');
      assert.equal(back.code, code, `${code} as ${status} ${body.error}`);
      assert.equal(back.field, 'name');
    }
  });

  it('keeps the statuses and error strings clients already match on', () => {
    const wire = (code: ErrorCode) => {
      const { status, body } = errorAnswer(new DriveseedError(code, 'm'));
      return `${status} ${body.error}`;
    };
    assert.deepEqual(
      ['USAGE', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'TOO_LARGE'].map((c) => wire(c as ErrorCode)),
      ['400 BAD_REQUEST', '401 UNAUTHORIZED', '403 FORBIDDEN', '404 NOT_FOUND', '409 CONFLICT', '413 TOO_LARGE'],
    );
  });

  it("tells the client what a request did wrong, and keeps the service's own faults in its log", () => {
    assert.deepEqual(errorAnswer(new DriveseedError('CONFLICT', 'job seed-a is Shipping', { field: 'state' })).body, {
      error: 'CONFLICT',
      message: 'job seed-a is Shipping',
      field: 'state',
    });
    const fault = errorAnswer(new DriveseedError('STORAGE', 'put config at /srv/blobs failed 6 times'));
    assert.equal(fault.status, 503);
    assert.doesNotMatch(fault.body.message, /srv/);
  });

  it('names the request and the field in the message', () => {
    const e = errorFromAnswer(409, { error: 'CONFLICT', message: 'tracking number taken', field: 'trackingNumber' }, 'PUT /v1/s/import-jobs/a/shipping');
    assert.equal(e.message, 'PUT /v1/s/import-jobs/a/shipping: tracking number taken (field trackingNumber)');
  });

  it("falls back by status for answers the table did not make: a proxy's page, a framework's own refusal", () => {
    assert.equal(errorFromAnswer(404, {}, 'GET /x').code, 'NOT_FOUND');
    assert.equal(errorFromAnswer(500, { error: 'INTERNAL', message: 'internal error' }, 'GET /x').code, 'SERVICE');
    assert.equal(
      errorFromAnswer(415, { error: 'BAD_REQUEST', message: 'unsupported media type' }, 'GET /x').code,
      'SERVICE',
      'BAD_REQUEST is USAGE only as a 400',
    );
    assert.equal(errorFromAnswer(502, {}, 'GET /x').message, 'GET /x: HTTP 502');
  });
});
