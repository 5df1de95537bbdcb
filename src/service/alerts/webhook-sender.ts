import { createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolveWebhook } from './webhook-address.js';

/** The signature header: `t=UNIX_SECONDS,v1=HEX` (docs/alerts.md says how to check it). */
export const SIGNATURE_HEADER = 'driveseed-signature';
export const DELIVERY_HEADER = 'driveseed-delivery';
export const EVENT_HEADER = 'driveseed-event';

/** A receiver that holds the connection longer has failed this attempt; the next one comes later. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** Of the answer only the status matters; a few bytes of its body go into the error for a person to read. */
const MAX_ANSWER_BYTES = 2048;

/** HMAC-SHA256 of `t.body` under the target's secret: the timestamp is signed, so an old request replayed is told apart. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface WebhookOptions {
  allowPrivate: boolean;
  timeoutMs?: number;
  now: () => Date;
}

/**
 * One attempt: POST the exact body, signed. Success is a 2xx answer. A redirect is never
 * followed (it could point anywhere, the provider's own network too), and the answer's body
 * is read only up to a bound, within the time limit, whatever the receiver sends.
 */
export async function sendWebhook(
  target: { address: string; secret: string },
  delivery: { id: string; event: string; body: string },
  options: WebhookOptions,
): Promise<void> {
  const resolved = await resolveWebhook(target.address, options.allowPrivate);
  const timestamp = Math.floor(options.now().getTime() / 1000);
  const pinned: LookupFunction = (_host, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all)
      (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: resolved.address, family: resolved.family }]);
    else callback(null, resolved.address, resolved.family);
  };
  const body = Buffer.from(delivery.body);
  const send = resolved.url.protocol === 'https:' ? httpsRequest : httpRequest;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    const req = send(resolved.url, {
      method: 'POST',
      lookup: pinned,
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': 'driveseed-alerts',
        [SIGNATURE_HEADER]: signWebhook(target.secret, timestamp, delivery.body),
        [DELIVERY_HEADER]: delivery.id,
        [EVENT_HEADER]: delivery.event,
      },
    });
    // The whole exchange, not each socket pause: a receiver trickling bytes cannot hold a sender.
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    req.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.once('response', (res) => {
      readBounded(res).then((text) => {
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else if (status >= 300 && status < 400) reject(new Error(`answered ${status} (redirects are not followed): point the webhook at its final URL`));
        else reject(new Error(`answered ${status}${text ? `: ${text}` : ''}`));
      }, reject);
    });
    req.end(body);
  });
}

/** The first MAX_ANSWER_BYTES of the answer, printable; the connection is closed after that. */
function readBounded(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const done = () =>
      resolve(
        Buffer.concat(parts)
          .toString('utf8')
          .replace(/[^\x20-\x7e]+/g, ' ')
          .trim()
          .slice(0, 200),
      );
    res.on('data', (chunk: Buffer) => {
      if (size >= MAX_ANSWER_BYTES) return;
      parts.push(chunk.subarray(0, MAX_ANSWER_BYTES - size));
      size += chunk.length;
      if (size >= MAX_ANSWER_BYTES) {
        res.destroy();
        done();
      }
    });
    res.once('end', done);
    res.once('error', (e) => (size >= MAX_ANSWER_BYTES ? done() : reject(e)));
  });
}
