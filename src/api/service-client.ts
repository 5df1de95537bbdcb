import type { Application, Certificate, CreateApplication, ErrorBody, TokenResponse, UploadCertificate, WhoAmI } from './schemas.js';
import { CLIENT_ASSERTION_TYPE } from './contract.js';
import { DriveseedError } from '../core/errors.js';
import { errorFromAnswer } from './wire-errors.js';
import { signClientAssertion, type CertificateWithKey } from '../core/certificates/certificates.js';
import { exchange, type HttpAnswer } from './http-exchange.js';
import type { BlobData } from '../core/storage/blob-store.js';

const isSuccess = (status: number) => status >= 200 && status < 300;

/** Node's codes for a TLS peer whose certificate does not verify: trying again cannot help. */
const CERTIFICATE_REJECTIONS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export type Credentials = { ownerKey: string } | { applicationId: string; certificate: CertificateWithKey };

/** Payload bytes (request and response bodies; not headers) this client moved: what a thin link carries. */
export interface Traffic {
  sent: number;
  received: number;
}

/**
 * The agent's and the CLI's client of the service's HTTP API; request and response types
 * come from the same schemas the server validates with. Application credentials are
 * exchanged for a bearer token on first use and again shortly before it expires.
 */
export class ServiceClient {
  readonly traffic: Traffic = { sent: 0, received: 0 };
  private token?: { value: string; expires: number };

  constructor(
    readonly serviceUrl: string,
    private readonly credentials: Credentials,
  ) {}

  whoami(subscriptionId: string): Promise<WhoAmI> {
    return this.call('GET', `/v1/subscriptions/${subscriptionId}/whoami`);
  }

  createApplication(subscriptionId: string, body: CreateApplication): Promise<Application> {
    return this.call('POST', `/v1/subscriptions/${subscriptionId}/applications`, body);
  }

  async findApplication(subscriptionId: string, name: string): Promise<Application | undefined> {
    const list = await this.call<{ applications: Application[] }>('GET', `/v1/subscriptions/${subscriptionId}/applications?name=${encodeURIComponent(name)}`);
    return list.applications[0];
  }

  uploadCertificate(subscriptionId: string, applicationId: string, body: UploadCertificate): Promise<Certificate> {
    return this.call('POST', `/v1/subscriptions/${subscriptionId}/applications/${applicationId}/certificates`, body);
  }

  /** A request with a raw body (blob transfer); errors come back as DriveseedErrors, a 404 and successes as the answer. */
  async raw(method: string, path: string, init: { body?: BlobData; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
    const headers: Record<string, string> = { authorization: await this.authorization(), ...init.headers };
    if (init.body) headers['content-type'] = 'application/octet-stream';
    const body = init.body === undefined ? undefined : Array.isArray(init.body) ? (init.body as readonly Uint8Array[]) : [init.body as Uint8Array];
    const answer = await this.send(path, method, headers, body);
    if (isSuccess(answer.status) || answer.status === 404) return answer;
    return this.parse<never>(answer, `${method} ${path}`);
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: await this.authorization() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const answer = await this.send(path, method, headers, body === undefined ? undefined : JSON.stringify(body));
    return this.parse<T>(answer, `${method} ${path}`);
  }

  private async authorization(): Promise<string> {
    if ('ownerKey' in this.credentials) return `OwnerKey ${this.credentials.ownerKey}`;
    if (!this.token || Date.now() > this.token.expires - 60_000) {
      const tokenUrl = `${this.serviceUrl}/v1/token`;
      const assertion = await signClientAssertion(this.credentials.applicationId, tokenUrl, this.credentials.certificate);
      const request = { grant_type: 'client_credentials', client_id: this.credentials.applicationId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion };
      const answer = await this.send('/v1/token', 'POST', { 'content-type': 'application/json' }, JSON.stringify(request));
      const token = await this.parse<TokenResponse>(answer, 'token request');
      this.token = { value: token.access_token, expires: Date.now() + token.expires_in * 1000 };
    }
    return `Bearer ${this.token.value}`;
  }

  private async send(path: string, method: string, headers: Record<string, string>, body?: string | readonly Uint8Array[]): Promise<HttpAnswer> {
    try {
      const answer = await exchange(this.serviceUrl + path, method, headers, body);
      this.traffic.sent += typeof body === 'string' ? Buffer.byteLength(body) : (body ?? []).reduce((sum, p) => sum + p.length, 0);
      this.traffic.received += answer.body.length;
      return answer;
    } catch (cause) {
      if (CERTIFICATE_REJECTIONS.has((cause as NodeJS.ErrnoException).code ?? '')) {
        throw new DriveseedError('UNTRUSTED', `the driveseed service at ${this.serviceUrl} presented a certificate this machine does not trust: ${(cause as Error).message}`, {
          hint: 'for a private CA or a self-signed certificate, point NODE_EXTRA_CA_CERTS at its PEM file',
          cause,
        });
      }
      throw new DriveseedError('SERVICE', `cannot reach the driveseed service at ${this.serviceUrl}: ${(cause as Error).message}`, { cause });
    }
  }

  private parse<T>(answer: HttpAnswer, what: string): T {
    if (answer.status === 204) return undefined as T;
    const text = answer.body.toString('utf8');
    if (isSuccess(answer.status)) return JSON.parse(text) as T;
    let body: Partial<ErrorBody> = {};
    try {
      body = JSON.parse(text) as ErrorBody;
    } catch {
      // not a service error body (a proxy's page, say): report the status alone
    }
    throw errorFromAnswer(answer.status, body, what);
  }
}
