import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { DriveseedError } from '../../core/errors.js';

/**
 * A tenant names the webhook URL, and the service then calls it from inside the provider's
 * network: without a check, `http://169.254.169.254/…` or `http://10.0.0.5:5432/` would make
 * the service a way in. Addresses of the loopback, private, link-local, shared (CGNAT),
 * multicast and reserved ranges are refused unless the provider allows them
 * (`service start --allow-private-webhooks`, for a self-hosted service whose receivers are
 * in-house, and for tests).
 */
const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv6');

const MAX_URL_LENGTH = 2000;

/** Whether an address (v4, v6, or v4 mapped into v6) is on the public internet. */
export function isPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPublicAddress(mapped[1]);
  const family = isIP(address);
  if (family === 0) return false;
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The URL's form: http or https, a host, no user or password (a secret in a URL ends up in logs). */
export function parseWebhookUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DriveseedError('USAGE', `not a URL: ${JSON.stringify(value.slice(0, 100))}`, { field: 'address' });
  }
  if (value.length > MAX_URL_LENGTH) throw new DriveseedError('USAGE', `a webhook URL is at most ${MAX_URL_LENGTH} characters`, { field: 'address' });
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new DriveseedError('USAGE', `a webhook URL is http:// or https://, not ${url.protocol}`, { field: 'address' });
  if (url.username || url.password)
    throw new DriveseedError('USAGE', 'a webhook URL carries no user or password: the signature authenticates the service', { field: 'address' });
  return url;
}

export interface ResolvedWebhook {
  url: URL;
  /** The address checked, which the request then goes to: a second lookup could answer otherwise (DNS rebinding). */
  address: string;
  family: 4 | 6;
}

/** Resolves the URL's host and checks every address it has; the request is then pinned to the first. */
export async function resolveWebhook(value: string, allowPrivate: boolean): Promise<ResolvedWebhook> {
  const url = parseWebhookUrl(value);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string; family: number }[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true, verbatim: true });
  } catch (e) {
    throw new DriveseedError('USAGE', `the webhook's host ${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      field: 'address',
    });
  }
  if (addresses.length === 0) throw new DriveseedError('USAGE', `the webhook's host ${host} has no address`, { field: 'address' });
  const inside = addresses.find((a) => !isPublicAddress(a.address));
  if (inside && !allowPrivate)
    throw new DriveseedError(
      'FORBIDDEN',
      `the webhook's host ${host} is at ${inside.address}, a loopback, private or link-local address: webhooks go to public addresses (the service's operator may allow others with service start --allow-private-webhooks)`,
      { field: 'address' },
    );
  return { url, address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
}
