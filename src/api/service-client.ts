import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import type { Application, Certificate, CreateApplication, ErrorBody, TokenResponse, UploadCertificate, WhoAmI } from './schemas.js';
import type { AnswerOf, BodyOf, JsonRouteName, ParamsOf, QueryOf, RawRouteName, Route, RouteName, Routes } from './routes.js';
import { CLIENT_ASSERTION_TYPE } from './contract.js';
import { DriveseedError } from '../core/errors.js';
import { errorFromAnswer } from './wire-errors.js';
import { signClientAssertion, type CertificateWithKey } from '../core/certificates/certificates.js';
import { exchange, type HttpAnswer } from './http-exchange.js';
import type { BlobData } from '../core/storage/blob-store.js';
import type * as RouteTableModule from './routes.js';
import type * as TypeBoxCompiler from '@sinclair/typebox/compiler';

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

type Part<K extends string, T> = [T] extends [undefined] ? { [key in K]?: undefined } : { [key in K]: T };
/** One call of a JSON route: its path parameters, query and body, as the route's schemas type them. */
export type CallOf<N extends RouteName> = Part<'params', ParamsOf<Routes[N]>> & { query?: QueryOf<Routes[N]> } & Part<'body', BodyOf<Routes[N]>>;
/** One call of a route that moves bytes: its path parameters, extra headers (a range) and the blob. */
export type TransferOf<N extends RouteName> = Part<'params', ParamsOf<Routes[N]>> & { headers?: Record<string, string>; body?: BlobData };

/*
 * The route table and TypeBox's compiler are loaded by the first call that needs them: building
 * every schema costs ~70 ms, which a command that never calls the service (or prints its help)
 * does not pay, and blob transfers never load the compiler.
 */
type RouteTable = typeof RouteTableModule;
let routeTable: Promise<RouteTable> | undefined;
const loadRoutes = () => (routeTable ??= import('./routes.js'));
let compiler: Promise<typeof TypeBoxCompiler> | undefined;
const loadCompiler = () => (compiler ??= import('@sinclair/typebox/compiler'));

/** Each route's answer check, compiled when the route is first called: a command pays for the routes it uses. */
const answerChecks = new Map<RouteName, TypeCheck<TSchema>>();

async function answerCheck(name: RouteName, response: TSchema): Promise<TypeCheck<TSchema>> {
  let check = answerChecks.get(name);
  if (!check) answerChecks.set(name, (check = (await loadCompiler()).TypeCompiler.Compile(response)));
  return check;
}

/**
 * The agent's and the CLI's client of the service's HTTP API, typed and checked by the route
 * table: a call names a route, its path is built from the route's and its answer must match the
 * route's response schema, the one the service serialized it with. Error answers become
 * DriveseedErrors with the code the service threw (wire-errors.ts). Application credentials
 * are exchanged for a bearer token on first use and again shortly before it expires.
 */
export class ServiceClient {
  readonly traffic: Traffic = { sent: 0, received: 0 };
  private token?: { value: string; expires: number };
  /** The token request in flight: calls made at once share it rather than each signing in. */
  private signingIn?: Promise<{ value: string; expires: number }>;

  constructor(
    readonly serviceUrl: string,
    private readonly credentials: Credentials,
  ) {}

  /** Calls a route that answers JSON (or nothing, 204) and returns its checked answer. */
  async request<N extends JsonRouteName>(name: N, call: CallOf<N>): Promise<AnswerOf<Routes[N]>> {
    const { routes, routePath } = await loadRoutes();
    const route: Route = routes[name];
    const path = routePath(route, call.params, call.query);
    const headers: Record<string, string> = { authorization: await this.authorization() };
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    const answer = await this.send(path, route.method, headers, call.body === undefined ? undefined : JSON.stringify(call.body));
    return (await this.checkedAnswer(name, route, answer, `${route.method} ${path}`)) as AnswerOf<Routes[N]>;
  }

  /** Calls a route that moves bytes (a blob): the answer as it came, a 404 too; any other error as a DriveseedError. */
  async transfer<N extends RawRouteName>(name: N, call: TransferOf<N>): Promise<HttpAnswer> {
    const { routes, routePath } = await loadRoutes();
    const route: Route = routes[name];
    const path = routePath(route, call.params);
    const headers: Record<string, string> = { authorization: await this.authorization(), ...call.headers };
    if (call.body) headers['content-type'] = 'application/octet-stream';
    const body = call.body === undefined ? undefined : Array.isArray(call.body) ? (call.body as readonly Uint8Array[]) : [call.body as Uint8Array];
    const answer = await this.send(path, route.method, headers, body);
    if (isSuccess(answer.status) || answer.status === 404) return answer;
    throw errorOf(answer, `${route.method} ${path}`);
  }

  whoami(subscriptionId: string): Promise<WhoAmI> {
    return this.request('whoami', { params: { subscriptionId } });
  }

  createApplication(subscriptionId: string, body: CreateApplication): Promise<Application> {
    return this.request('createApplication', { params: { subscriptionId }, body });
  }

  async findApplication(subscriptionId: string, name: string): Promise<Application | undefined> {
    return (await this.request('listApplications', { params: { subscriptionId }, query: { name } })).applications[0];
  }

  uploadCertificate(subscriptionId: string, applicationId: string, body: UploadCertificate): Promise<Certificate> {
    return this.request('uploadCertificate', { params: { subscriptionId, applicationId }, body });
  }

  private async authorization(): Promise<string> {
    if ('ownerKey' in this.credentials) return `OwnerKey ${this.credentials.ownerKey}`;
    if (!this.token || Date.now() > this.token.expires - 60_000) {
      this.signingIn ??= this.signIn(this.credentials).finally(() => (this.signingIn = undefined));
      this.token = await this.signingIn;
    }
    return `Bearer ${this.token.value}`;
  }

  private async signIn(credentials: { applicationId: string; certificate: CertificateWithKey }): Promise<{ value: string; expires: number }> {
    const route: Route = (await loadRoutes()).routes.token;
    const assertion = await signClientAssertion(credentials.applicationId, `${this.serviceUrl}${route.path}`, credentials.certificate);
    const request = {
      grant_type: 'client_credentials',
      client_id: credentials.applicationId,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: assertion,
    };
    const answer = await this.send(route.path, route.method, { 'content-type': 'application/json' }, JSON.stringify(request));
    const token = (await this.checkedAnswer('token', route, answer, 'token request')) as TokenResponse;
    return { value: token.access_token, expires: Date.now() + token.expires_in * 1000 };
  }

  private async send(path: string, method: string, headers: Record<string, string>, body?: string | readonly Uint8Array[]): Promise<HttpAnswer> {
    try {
      const answer = await exchange(this.serviceUrl + path, method, headers, body);
      this.traffic.sent += typeof body === 'string' ? Buffer.byteLength(body) : (body ?? []).reduce((sum, p) => sum + p.length, 0);
      this.traffic.received += answer.body.length;
      return answer;
    } catch (cause) {
      if (CERTIFICATE_REJECTIONS.has((cause as NodeJS.ErrnoException).code ?? '')) {
        throw new DriveseedError(
          'UNTRUSTED',
          `the driveseed service at ${this.serviceUrl} presented a certificate this machine does not trust: ${(cause as Error).message}`,
          {
            hint: 'for a private CA or a self-signed certificate, point NODE_EXTRA_CA_CERTS at its PEM file',
            cause,
          },
        );
      }
      throw new DriveseedError('SERVICE', `cannot reach the driveseed service at ${this.serviceUrl}: ${(cause as Error).message}`, {
        hint: `check that the service runs and this machine reaches it (${this.serviceUrl}/health)`,
        cause,
      });
    }
  }

  /** A success's JSON, if it must match the route's response schema; an error answer thrown as the service's DriveseedError. */
  private async checkedAnswer(name: RouteName, route: Route, answer: HttpAnswer, what: string): Promise<unknown> {
    if (!isSuccess(answer.status)) throw errorOf(answer, what);
    if (answer.status === 204 || !route.response) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(answer.body.toString('utf8'));
    } catch {
      throw new DriveseedError('SERVICE', `${what}: the service's answer is not JSON`);
    }
    const check = await answerCheck(name, route.response);
    if (!check.Check(body)) {
      const first = check.Errors(body).First();
      throw new DriveseedError('SERVICE', `${what}: the service's answer does not match the API's ${name} route (${first?.path || '/'}: ${first?.message})`, {
        hint: 'the service and this client may be of different versions',
      });
    }
    return body;
  }
}

function errorOf(answer: HttpAnswer, what: string): DriveseedError {
  let body: Partial<ErrorBody> = {};
  try {
    body = JSON.parse(answer.body.toString('utf8')) as ErrorBody;
  } catch {
    // not a service error body (a proxy's page, say): report the status alone
  }
  return errorFromAnswer(answer.status, body, what);
}
