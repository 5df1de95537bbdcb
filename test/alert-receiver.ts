import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface ReceivedHook {
  delivery: string;
  event: string;
  timestamp: number;
  /** Whether driveseed-signature is the HMAC-SHA256 of `t.body` under the secret, checked as a receiver would. */
  signed: boolean;
  body: { id: string; event: string; alert: { id: string; kind: string; subject: string; message: string; resolvedAt?: string } };
  raw: string;
}

/** What a receiver's author writes from docs/alerts.md: parse the header, recompute, compare in constant time. */
export function verifySignature(secret: string, header: string, raw: string): { timestamp: number; ok: boolean } {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const timestamp = Number(parts.t);
  const expected = createHmac('sha256', secret).update(`${parts.t}.${raw}`).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return { timestamp, ok: given.length === expected.length && timingSafeEqual(given, expected) };
}

/**
 * A real HTTP receiver on loopback. `answer` decides each response (default 204); requests
 * are recorded with the signature checked against `secret()` (known once the target exists).
 */
export async function startHookReceiver(secret: () => string, answer?: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  const received: ReceivedHook[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const { timestamp, ok } = verifySignature(secret(), String(req.headers['driveseed-signature'] ?? ''), raw);
      received.push({
        delivery: String(req.headers['driveseed-delivery']),
        event: String(req.headers['driveseed-event']),
        timestamp,
        signed: ok,
        body: JSON.parse(raw),
        raw,
      });
      if (answer) answer(req, res, n++);
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/driveseed`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
