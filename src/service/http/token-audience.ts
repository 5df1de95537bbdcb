import type { FastifyRequest } from 'fastify';
import { DriveseedError } from '../../core/errors.js';

/**
 * The addresses of the token endpoint that an assertion may be made out to. An agent signs the
 * address it knows the service by into its assertion's audience, so that an assertion made for
 * another service cannot be spent here. What the client says (the Host header) must therefore
 * never decide it: an assertion captured from another service would be replayed with that
 * service's Host. So, in order:
 * - `--public-url`: the one address agents are given, and no other;
 * - `--trust-proxy`: the address the trusted proxy forwards (X-Forwarded-Proto and -Host);
 * - otherwise the address the connection arrived at, and `localhost` for a loopback one (a
 *   name that only reaches this machine, at this port).
 */
export function tokenAudiences(request: FastifyRequest, path: string, setting: { publicUrl?: string; trustProxy?: boolean }): string[] {
  if (setting.publicUrl) return [`${setting.publicUrl}${path}`];
  if (setting.trustProxy) return [`${request.protocol}://${request.host}${path}`];
  const { localAddress, localPort } = request.socket;
  const arrivedAt = [`${request.protocol}://${hostPart(localAddress ?? '')}:${localPort}${path}`];
  if (isLoopback(localAddress ?? '')) arrivedAt.push(`${request.protocol}://localhost:${localPort}${path}`);
  return arrivedAt;
}

/** `--public-url`: an http(s) address, kept without a trailing slash (agents add the API's paths to it). */
export function parsePublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DriveseedError('USAGE', `--public-url needs an address such as https://backup.example.com, not ${JSON.stringify(value)}`, { field: 'publicUrl' });
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password)
    throw new DriveseedError('USAGE', `--public-url takes an http(s) address without query, fragment or credentials, not ${JSON.stringify(value)}`, {
      field: 'publicUrl',
    });
  return url.href.replace(/\/+$/, '');
}

const hostPart = (address: string) => {
  const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return plain.includes(':') ? `[${plain}]` : plain;
};

const isLoopback = (address: string) => /^(?:127\.|::ffff:127\.)/.test(address) || address === '::1';
