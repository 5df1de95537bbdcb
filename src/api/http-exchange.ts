import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { downloadPacing, meterResponse, uploadPacing, writePaced } from '../core/util/transfer-pacing.js';

/** An answer read to its end. */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** No byte either way for this long: the peer is gone (fetch's default, kept). */
const IDLE_TIMEOUT_MS = 300_000;

/**
 * One HTTP request on node's own client, its body written as the parts it comes in. Why not
 * fetch: undici's fetch copies a request body twice before sending it (into a web stream and
 * out again) — 0.3 s of the agent's main thread and a large-object collection per 250 MB of
 * packs in an online backup, measured with --cpu-prof; corked writes of the parts copy nothing.
 * Connections are kept alive by node's global agents.
 */
export function exchange(url: string, method: string, headers: Record<string, string>, body?: string | readonly Uint8Array[]): Promise<HttpAnswer> {
  const parts = typeof body === 'string' ? [Buffer.from(body)] : (body ?? []);
  const length = parts.reduce((sum, p) => sum + p.length, 0);
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  // Under a bandwidth limit (transfer-pacing.ts) the body goes out and the answer comes in as the limit lets them.
  const upload = uploadPacing();
  const download = downloadPacing();
  return new Promise((resolve, reject) => {
    const request = send(target, { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(length) } }, (response) => {
      if (download) meterResponse(response, download);
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    request.setTimeout(IDLE_TIMEOUT_MS, () => request.destroy(new Error(`no answer for ${IDLE_TIMEOUT_MS / 1000} s`)));
    request.on('error', reject);
    if (upload && length > 0) {
      writePaced(request, parts, upload).then(
        () => request.end(),
        (e: Error) => request.destroy(e),
      );
      return;
    }
    request.cork();
    for (const part of parts) request.write(part);
    request.uncork();
    request.end();
  });
}
