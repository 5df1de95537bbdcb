import type { Static, TObject, TSchema } from '@sinclair/typebox';
import {
  AlertList,
  AlertQuery,
  AlertTarget,
  AlertTargetList,
  AlertTargetParams,
  CreateAlertTarget,
  Application,
  ApplicationList,
  ApplicationParams,
  ApplicationQuery,
  BackupJob,
  BackupJobParams,
  BackupJobQuery,
  BlobGrantRequest,
  BlobGrants,
  BlobList,
  BlobListQuery,
  BlobParams,
  Certificate,
  CertificateParams,
  CompleteSeed,
  ConsoleBackupJob,
  ConsoleBackupJobList,
  ContainerParams,
  CreateApplication,
  CreateImportJob,
  DatacenterView,
  DriveLogs,
  FinishJob,
  Health,
  ImportDriveParams,
  ImportJob,
  ImportJobList,
  ImportJobParams,
  JobParams,
  JobProgress,
  Overview,
  ProtectionPolicy,
  RegisterServer,
  SeedCopy,
  SettledJobs,
  SettleWaitingJobs,
  Server,
  ServerList,
  ServerParams,
  ServerQuery,
  ServerStatus,
  Session,
  ShippingDetailsBody,
  SignIn,
  StartJob,
  StorageAccount,
  StorageAccountList,
  StorageAccountParams,
  SubscriptionParams,
  TokenRequest,
  TokenResponse,
  UploadCertificate,
  Vault,
  VaultParams,
  WhoAmI,
} from './schemas.js';

type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

/**
 * One route of the API, shared by the service, which registers it (path and schemas from
 * here, the handler its own), and the typed client, which builds its path and checks its
 * answer with the same schema the service serialized it by.
 */
export interface Route {
  method: Method;
  /** `:name` is a parameter; a trailing `*` is the rest of the path (a blob's name). */
  path: string;
  params?: TObject;
  querystring?: TObject;
  /** The JSON body; a route without one takes none, or a blob's bytes. */
  body?: TSchema;
  /** The status of success. */
  status: number;
  /** The JSON answer: none for 204, none for an answer of bytes. */
  response?: TSchema;
  /** Bytes in or out (blobs, event streams): no JSON body, answer or error shapes. */
  raw?: true;
  /** Never answers an error (the health probe): none is published for it. */
  errors?: false;
  description?: string;
}

const SUBSCRIPTION = '/v1/subscriptions/:subscriptionId';
const APPLICATION = `${SUBSCRIPTION}/applications/:applicationId`;
const VAULT = `${SUBSCRIPTION}/vaults/:vaultName`;
const SERVER = `${VAULT}/servers/:serverId`;
const JOB = `${SERVER}/jobs/:jobId`;
const ACCOUNT = `${SUBSCRIPTION}/storage-accounts/:account`;
const CONTAINER = `${ACCOUNT}/containers/:container`;
const IMPORT_JOBS = `${SUBSCRIPTION}/import-jobs`;
const IMPORT_JOB = `${IMPORT_JOBS}/:jobName`;

/** Every route of the API, in the order the service registers (and /openapi.json lists) them. */
export const routes = {
  health: { method: 'GET', path: '/health', status: 200, response: Health, errors: false },

  // identity
  token: { method: 'POST', path: '/v1/token', body: TokenRequest, status: 200, response: TokenResponse },
  whoami: { method: 'GET', path: `${SUBSCRIPTION}/whoami`, params: SubscriptionParams, status: 200, response: WhoAmI },
  createApplication: {
    method: 'POST',
    path: `${SUBSCRIPTION}/applications`,
    params: SubscriptionParams,
    body: CreateApplication,
    status: 201,
    response: Application,
  },
  listApplications: {
    method: 'GET',
    path: `${SUBSCRIPTION}/applications`,
    params: SubscriptionParams,
    querystring: ApplicationQuery,
    status: 200,
    response: ApplicationList,
  },
  getApplication: { method: 'GET', path: APPLICATION, params: ApplicationParams, status: 200, response: Application },
  uploadCertificate: {
    method: 'POST',
    path: `${APPLICATION}/certificates`,
    params: ApplicationParams,
    body: UploadCertificate,
    status: 201,
    response: Certificate,
  },
  revokeCertificate: { method: 'DELETE', path: `${APPLICATION}/certificates/:thumbprint`, params: CertificateParams, status: 204 },

  // vault
  ensureVault: { method: 'PUT', path: VAULT, params: VaultParams, status: 200, response: Vault },
  registerServer: { method: 'POST', path: `${VAULT}/servers`, params: VaultParams, body: RegisterServer, status: 201, response: Server },
  listServers: {
    method: 'GET',
    path: `${VAULT}/servers`,
    params: VaultParams,
    querystring: ServerQuery,
    status: 200,
    response: ServerList,
    description: "the vault's servers (the owner only): how a new machine finds the one it recovers",
  },
  setPolicy: { method: 'PUT', path: `${SERVER}/policy`, params: ServerParams, body: ProtectionPolicy, status: 200, response: Server },
  serverStatus: { method: 'GET', path: SERVER, params: ServerParams, status: 200, response: ServerStatus },
  startJob: { method: 'POST', path: `${SERVER}/jobs`, params: ServerParams, body: StartJob, status: 201, response: BackupJob },
  finishJob: { method: 'PUT', path: JOB, params: JobParams, body: FinishJob, status: 200, response: BackupJob },
  completeSeed: { method: 'POST', path: `${SERVER}/seed`, params: ServerParams, body: CompleteSeed, status: 200, response: SeedCopy },
  heartbeat: {
    method: 'POST',
    path: `${JOB}/heartbeat`,
    params: JobParams,
    status: 204,
    description: 'the agent still runs the job: one whose heartbeats stop is closed (Failed) by the service',
  },
  settleWaitingJobs: {
    method: 'POST',
    path: `${SERVER}/waiting-jobs/settle`,
    params: ServerParams,
    body: SettleWaitingJobs,
    status: 200,
    response: SettledJobs,
  },
  reportProgress: { method: 'POST', path: `${JOB}/progress`, params: JobParams, body: JobProgress, status: 204 },
  listBlobs: { method: 'GET', path: `${SERVER}/blobs`, params: ServerParams, querystring: BlobListQuery, status: 200, response: BlobList },
  grantBlobAccess: { method: 'POST', path: `${SERVER}/blob-grants`, params: ServerParams, body: BlobGrantRequest, status: 200, response: BlobGrants },
  getBlob: { method: 'GET', path: `${SERVER}/blobs/*`, params: BlobParams, status: 200, raw: true },
  headBlob: { method: 'HEAD', path: `${SERVER}/blobs/*`, params: BlobParams, status: 200, raw: true },
  putBlob: { method: 'PUT', path: `${SERVER}/blobs/*`, params: BlobParams, status: 204, raw: true },
  deleteBlob: { method: 'DELETE', path: `${SERVER}/blobs/*`, params: BlobParams, status: 204, raw: true },

  // storage accounts
  listStorageAccounts: { method: 'GET', path: `${SUBSCRIPTION}/storage-accounts`, params: SubscriptionParams, status: 200, response: StorageAccountList },
  ensureStorageAccount: { method: 'PUT', path: ACCOUNT, params: StorageAccountParams, status: 200, response: StorageAccount },
  getStorageAccount: { method: 'GET', path: ACCOUNT, params: StorageAccountParams, status: 200, response: StorageAccount },
  ensureContainer: { method: 'PUT', path: CONTAINER, params: ContainerParams, status: 200, response: StorageAccount },
  listContainerBlobs: { method: 'GET', path: `${CONTAINER}/blobs`, params: ContainerParams, querystring: BlobListQuery, status: 200, response: BlobList },

  // import/export
  createImportJob: { method: 'POST', path: IMPORT_JOBS, params: SubscriptionParams, body: CreateImportJob, status: 201, response: ImportJob },
  listImportJobs: { method: 'GET', path: IMPORT_JOBS, params: SubscriptionParams, status: 200, response: ImportJobList },
  getImportJob: { method: 'GET', path: IMPORT_JOB, params: ImportJobParams, status: 200, response: ImportJob },
  setShipping: { method: 'PUT', path: `${IMPORT_JOB}/shipping`, params: ImportJobParams, body: ShippingDetailsBody, status: 200, response: ImportJob },
  cancelImportJob: { method: 'POST', path: `${IMPORT_JOB}/cancel`, params: ImportJobParams, status: 200, response: ImportJob },
  driveLogs: { method: 'GET', path: `${IMPORT_JOB}/drives/:driveId/logs`, params: ImportDriveParams, status: 200, response: DriveLogs },

  // the web console
  signIn: { method: 'POST', path: '/v1/session', body: SignIn, status: 201, response: Session },
  getSession: { method: 'GET', path: '/v1/session', status: 200, response: Session },
  signOut: { method: 'DELETE', path: '/v1/session', status: 204 },
  overview: { method: 'GET', path: `${SUBSCRIPTION}/overview`, params: SubscriptionParams, status: 200, response: Overview },
  listBackupJobs: {
    method: 'GET',
    path: `${SUBSCRIPTION}/backup-jobs`,
    params: SubscriptionParams,
    querystring: BackupJobQuery,
    status: 200,
    response: ConsoleBackupJobList,
  },
  getBackupJob: { method: 'GET', path: `${SUBSCRIPTION}/backup-jobs/:jobId`, params: BackupJobParams, status: 200, response: ConsoleBackupJob },
  subscriptionEvents: {
    method: 'GET',
    path: `${SUBSCRIPTION}/events`,
    params: SubscriptionParams,
    status: 200,
    raw: true,
    description: 'server-sent events: backup-job and import-job, each with the changed object',
  },
  // alerts
  listAlerts: {
    method: 'GET',
    path: `${SUBSCRIPTION}/alerts`,
    params: SubscriptionParams,
    querystring: AlertQuery,
    status: 200,
    response: AlertList,
    description: 'alerts raised for the subscription, newest first: the open ones, or all with state=all',
  },
  createAlertTarget: {
    method: 'POST',
    path: `${SUBSCRIPTION}/alert-targets`,
    params: SubscriptionParams,
    body: CreateAlertTarget,
    status: 201,
    response: AlertTarget,
    description: "where alerts go: an e-mail address or a webhook URL; a webhook's signing secret is in this answer only",
  },
  listAlertTargets: { method: 'GET', path: `${SUBSCRIPTION}/alert-targets`, params: SubscriptionParams, status: 200, response: AlertTargetList },
  deleteAlertTarget: { method: 'DELETE', path: `${SUBSCRIPTION}/alert-targets/:targetId`, params: AlertTargetParams, status: 204 },
  datacenterView: { method: 'GET', path: '/v1/datacenter', status: 200, response: DatacenterView },
  datacenterEvents: {
    method: 'GET',
    path: '/v1/datacenter/events',
    status: 200,
    raw: true,
    description: 'server-sent events: import-job, for every subscription',
  },
} as const satisfies Record<string, Route>;

export type Routes = typeof routes;
export type RouteName = keyof Routes;

type StaticOf<R, K extends keyof Route> = R extends { [k in K]: infer S extends TSchema } ? Static<S> : undefined;
/** The route's path parameters, query and JSON body, as its schemas type them (undefined where it has none). */
export type ParamsOf<R> = StaticOf<R, 'params'>;
export type QueryOf<R> = StaticOf<R, 'querystring'>;
export type BodyOf<R> = StaticOf<R, 'body'>;
/** The route's JSON answer; nothing for 204 and for bytes. */
export type AnswerOf<R> = R extends { response: infer S extends TSchema } ? Static<S> : void;

/** The routes that answer JSON or nothing, and the ones that move bytes. */
export type JsonRouteName = { [N in RouteName]: Routes[N] extends { raw: true } ? never : N }[RouteName];
export type RawRouteName = Exclude<RouteName, JsonRouteName>;

/**
 * The path of one call of a route: each parameter encoded (a blob's name segment by segment,
 * so its slashes stay separators), then the query's given values.
 */
export function routePath(route: Pick<Route, 'path'>, params: object = {}, query: object = {}): string {
  const values = params as Record<string, string | undefined>;
  const path = route.path.replace(/:(\w+)|\*$/g, (token: string, name: string | undefined) => {
    const value = values[name ?? '*'];
    if (value === undefined) throw new Error(`${route.path} needs a value for ${token}`);
    return name ? encodeURIComponent(value) : value.split('/').map(encodeURIComponent).join('/');
  });
  const search = Object.entries(query as Record<string, string | undefined>)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value!)}`);
  return search.length > 0 ? `${path}?${search.join('&')}` : path;
}
