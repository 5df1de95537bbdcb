import { createServer, request as forward, type IncomingMessage, type Server } from 'node:http';
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FaultProxy {
  /** The proxy's origin, to put in a connection string instead of the real endpoint's. */
  origin: string;
  /** Answer matching requests with this HTTP status (no body) instead of forwarding them. */
  failWhen(predicate: ((request: IncomingMessage) => number | undefined) | undefined): void;
  /** Every request that passed, failed or not: method and path (no query: it holds the signature). */
  readonly seen: { method: string; path: string; failed: boolean }[];
  latencyMs: number;
  /** Flip a byte in the body of PUTs matching this: damage on the wire, which TLS or an MD5 must catch. */
  corruptPuts?: (request: IncomingMessage) => boolean;
  stop(): Promise<void>;
}

/**
 * For tests: an HTTP proxy in front of blob storage that fails or slows the requests it is
 * told to. It sits where the network is, so it sees both the service's and the agent's direct
 * requests, whichever credentials they carry.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let failing: ((request: IncomingMessage) => number | undefined) | undefined;
  const seen: FaultProxy['seen'] = [];
  const server: Server = createServer(async (request, response) => {
    const status = failing?.(request);
    seen.push({ method: request.method ?? '', path: (request.url ?? '').split('?')[0], failed: status !== undefined });
    if (proxy.latencyMs > 0) await sleep(proxy.latencyMs);
    if (status !== undefined) {
      request.resume();
      response.writeHead(status, { 'content-length': '0' }).end();
      return;
    }
    const out = forward({ host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    out.on('error', () => response.destroy());
    if (request.method === 'PUT' && proxy.corruptPuts?.(request)) request.pipe(flipFirstByte()).pipe(out);
    else request.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: FaultProxy = {
    origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    failWhen: (predicate) => {
      failing = predicate;
    },
    seen,
    latencyMs: 0,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
}

function flipFirstByte(): Transform {
  let done = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!done && chunk.length > 0) {
        chunk = Buffer.from(chunk);
        chunk[0] ^= 0xff;
        done = true;
      }
      callback(null, chunk);
    },
  });
}
