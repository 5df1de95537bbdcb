import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DriveseedError } from '../../core/errors.js';

/** Where `npm ci` (vite build web) puts the console: dist/web, next to the compiled service. */
export const DEFAULT_CONSOLE_DIR = new URL('../../../web/', import.meta.url).pathname;

/**
 * Scripts, styles and data only from this origin: Vite's output has no inline script or
 * style, and the console talks to nobody but this service.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";
const IMMUTABLE = 'public, max-age=31536000, immutable';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

interface Asset {
  type: string;
  body: Buffer;
  gzipped?: Buffer;
  cacheControl: string;
}

/** Headers every response carries, the API's included (hijacked SSE responses copy them). */
export function securityHeaders(): Record<string, string> {
  return { 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
}

/**
 * Serves the built console from memory (it is a few hundred KB): hashed files under assets/
 * are cached for a year, index.html is revalidated every time so a new build shows at once,
 * and any other GET outside /v1/ is a client route that gets index.html.
 */
export async function registerConsole(app: FastifyInstance, dir = DEFAULT_CONSOLE_DIR): Promise<void> {
  const assets = await loadAssets(dir);
  const index = assets.get('/index.html');
  const send = (request: FastifyRequest, reply: FastifyReply, asset: Asset) => {
    reply.header('content-type', asset.type).header('cache-control', asset.cacheControl).header('vary', 'accept-encoding');
    if (asset.gzipped && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) return reply.header('content-encoding', 'gzip').send(asset.gzipped);
    return reply.send(asset.body);
  };

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split('?')[0];
    if (path.startsWith('/v1/') || path === '/v1') throw new DriveseedError('NOT_FOUND', `no API route ${request.method} ${path}`);
    const asset = assets.get(path);
    if (asset) return send(request, reply, asset);
    if (path.startsWith('/assets/')) throw new DriveseedError('NOT_FOUND', `no console file ${path}`);
    if (!index) return reply.status(503).type('text/plain; charset=utf-8').send('The web console is not built: run `npm run build` (npm ci does it).');
    return send(request, reply, index);
  });
}

async function loadAssets(dir: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  let names: string[];
  try {
    names = await readdir(dir, { recursive: true });
  } catch {
    return assets;
  }
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = await readFile(join(dir, name)).catch(() => undefined);
    if (!body) continue;
    const urlPath = '/' + relative(dir, join(dir, name)).split(sep).join('/');
    const compressible = type.startsWith('text/') || type.includes('json') || type.includes('svg');
    assets.set(urlPath, {
      type,
      body,
      ...(compressible && body.length > 1024 ? { gzipped: gzipSync(body, { level: 9 }) } : {}),
      cacheControl: urlPath.startsWith('/assets/') ? IMMUTABLE : 'no-cache',
    });
  }
  return assets;
}
