import type { Application, Certificate, CreateApplication, ErrorBody, TokenResponse, UploadCertificate, WhoAmI } from '../service/api/schemas.js';
import { CLIENT_ASSERTION_TYPE } from '../service/api/schemas.js';
import { DriveseedError, type ErrorCode } from '../errors.js';
import { signClientAssertion, type CertificateWithKey } from './certificates.js';

export type Credentials = { ownerKey: string } | { applicationId: string; certificate: CertificateWithKey };

const CODE_BY_STATUS: Record<number, ErrorCode> = { 400: 'USAGE', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 409: 'CONFLICT' };

/**
 * The agent's and the CLI's client of the service's HTTP API; request and response types
 * come from the same schemas the server validates with. Application credentials are
 * exchanged for a bearer token on first use and again shortly before it expires.
 */
/** Payload bytes (request and response bodies; not headers) this client moved: what a thin link carries. */
export interface Traffic {
  sent: number;
  received: number;
}

function bodyLength(body: RequestInit['body']): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.length;
  return 0;
}

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

  /** A request with a raw body (blob transfer); errors come back as DriveseedErrors, other statuses as the Response. */
  async raw(method: string, path: string, init: { body?: Uint8Array; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: await this.authorization(), ...init.headers };
    if (init.body) headers['content-type'] = 'application/octet-stream';
    const response = await this.fetch(path, { method, headers, body: init.body as BodyInit | undefined });
    if (response.ok || response.status === 404) return response;
    return this.parse<never>(response, `${method} ${path}`);
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: await this.authorization() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return this.parse<T>(response, `${method} ${path}`);
  }

  private async authorization(): Promise<string> {
    if ('ownerKey' in this.credentials) return `OwnerKey ${this.credentials.ownerKey}`;
    if (!this.token || Date.now() > this.token.expires - 60_000) {
      const tokenUrl = `${this.serviceUrl}/v1/token`;
      const assertion = await signClientAssertion(this.credentials.applicationId, tokenUrl, this.credentials.certificate);
      const response = await this.fetch('/v1/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials', client_id: this.credentials.applicationId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion }),
      });
      const token = await this.parse<TokenResponse>(response, 'token request');
      this.token = { value: token.access_token, expires: Date.now() + token.expires_in * 1000 };
    }
    return `Bearer ${this.token.value}`;
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      const response = await fetch(this.serviceUrl + path, init);
      this.traffic.sent += bodyLength(init.body);
      this.traffic.received += Number(response.headers.get('content-length') ?? 0);
      return response;
    } catch (cause) {
      throw new DriveseedError('SERVICE', `cannot reach the driveseed service at ${this.serviceUrl}: ${((cause as Error).cause as Error)?.message ?? (cause as Error).message}`, { cause });
    }
  }

  private async parse<T>(response: Response, what: string): Promise<T> {
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (response.ok) return JSON.parse(text) as T;
    let body: Partial<ErrorBody> = {};
    try {
      body = JSON.parse(text) as ErrorBody;
    } catch {
      // not a service error body (a proxy's page, say): report the status alone
    }
    const code = CODE_BY_STATUS[response.status] ?? 'SERVICE';
    throw new DriveseedError(code, `${what}: ${body.message ?? `HTTP ${response.status}`}${body.field ? ` (field ${body.field})` : ''}`);
  }
}
