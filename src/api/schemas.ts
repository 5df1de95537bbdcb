import { Type, type Static } from '@sinclair/typebox';
import { CLIENT_ASSERTION_TYPE, MAX_EXPORT_PACKS_PER_REQUEST, MAX_GRANTS_PER_REQUEST, PACK_NAME_PATTERN } from './contract.js';

/*
 * The HTTP API's request and response shapes, declared once: the server validates requests
 * with them (fastify + ajv) and publishes them at /openapi.json, and the typed client checks
 * answers with them (routes.ts pairs each route with its shapes). The plain values they are
 * built from (patterns, limits) are in contract.ts.
 */

export const Id = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });

export const ErrorBody = Type.Object({
  error: Type.String({ description: 'stable error code' }),
  message: Type.String(),
  field: Type.Optional(Type.String({ description: 'the request field at fault' })),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const Health = Type.Object({ status: Type.Literal('ok'), database: Type.String(), version: Type.String() });

export const SubscriptionParams = Type.Object({ subscriptionId: Id });
export const ApplicationParams = Type.Object({ subscriptionId: Id, applicationId: Id });
export const CertificateParams = Type.Object({ subscriptionId: Id, applicationId: Id, thumbprint: Type.String({ pattern: '^[0-9a-f]{64}$' }) });

const Pem = Type.String({ minLength: 64, maxLength: 20_000, pattern: '-----BEGIN CERTIFICATE-----' });
const AppName = Type.String({ minLength: 1, maxLength: 120, pattern: '^[A-Za-z0-9_.@-]+$' });

export const CreateApplication = Type.Object({ name: AppName, certificate: Pem }, { additionalProperties: false });
export type CreateApplication = Static<typeof CreateApplication>;

export const Certificate = Type.Object({
  thumbprint: Type.String(),
  notBefore: Type.String(),
  notAfter: Type.String(),
  revoked: Type.Boolean(),
});
export type Certificate = Static<typeof Certificate>;

export const Application = Type.Object({
  id: Type.String(),
  subscriptionId: Type.String(),
  name: Type.String(),
  createdAt: Type.String(),
  certificates: Type.Array(Certificate),
});
export type Application = Static<typeof Application>;

export const ApplicationList = Type.Object({ applications: Type.Array(Application) });
export const ApplicationQuery = Type.Object({ name: Type.Optional(AppName) });

export const UploadCertificate = Type.Object({ certificate: Pem }, { additionalProperties: false });
export type UploadCertificate = Static<typeof UploadCertificate>;

/** RFC 7523 client credentials with a JWT assertion signed by the application's certificate key. */
export const TokenRequest = Type.Object(
  {
    grant_type: Type.Literal('client_credentials'),
    client_id: Id,
    client_assertion_type: Type.Literal(CLIENT_ASSERTION_TYPE),
    client_assertion: Type.String({ minLength: 20, maxLength: 8000 }),
  },
  { additionalProperties: false },
);
export type TokenRequest = Static<typeof TokenRequest>;

export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
});
export type TokenResponse = Static<typeof TokenResponse>;

export const WhoAmI = Type.Object({
  subscriptionId: Type.String(),
  applicationId: Type.Optional(Type.String()),
  role: Type.Union([Type.Literal('owner'), Type.Literal('application'), Type.Literal('operator')]),
});
export type WhoAmI = Static<typeof WhoAmI>;

// ---- vault ---------------------------------------------------------------------------------

export const VaultParams = Type.Object({ subscriptionId: Id, vaultName: Type.String({ pattern: '^[a-z][a-z0-9-]{1,49}$' }) });
export const ServerParams = Type.Object({ subscriptionId: Id, vaultName: VaultParams.properties.vaultName, serverId: Id });
/** Names a server in the API: the path parameters every call about it carries. */
export type ServerParams = Static<typeof ServerParams>;
export const JobParams = Type.Object({ subscriptionId: Id, vaultName: VaultParams.properties.vaultName, serverId: Id, jobId: Id });

export const Vault = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String() });
export type Vault = Static<typeof Vault>;

export const RegisterServer = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), applicationId: Id }, { additionalProperties: false });
export type RegisterServer = Static<typeof RegisterServer>;

const KeepCount = Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 }));
/** restic's keep rules, as `agent protect --keep-…` sets them; the agent applies them after each backup. */
export const Retention = Type.Object(
  {
    last: KeepCount,
    hourly: KeepCount,
    daily: KeepCount,
    weekly: KeepCount,
    monthly: KeepCount,
    yearly: KeepCount,
    within: Type.Optional(Type.String({ pattern: '^([0-9]+[ymdh])+$', maxLength: 40 })),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 100 })),
  },
  { additionalProperties: false },
);
export type Retention = Static<typeof Retention>;

/**
 * The agent's whole policy as it stores it in the vault (docs/policy-document.md): the
 * service keeps it whole and gives it back to a machine that recovers the server; only the
 * agent reads `policy`, and it refuses a version it does not know.
 */
export const PolicyDocument = Type.Object(
  {
    version: Type.Integer({ minimum: 1, maximum: 1000 }),
    policy: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown()),
    timeZone: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type PolicyDocument = Static<typeof PolicyDocument>;

export const ProtectionPolicy = Type.Object(
  {
    paths: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { maxItems: 1000 }),
    schedule: Type.Optional(Type.String({ maxLength: 100 })),
    retention: Type.Optional(Retention),
    /** The agent's IANA time zone (Europe/Amsterdam): its schedule and retention days are read in it. */
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_+/-]+$' })),
    /** Everything else the agent's policy holds, for a recovered machine. */
    document: Type.Optional(PolicyDocument),
  },
  { additionalProperties: false },
);
export type ProtectionPolicy = Static<typeof ProtectionPolicy>;

export const Server = Type.Object({
  id: Type.String(),
  vaultId: Type.String(),
  name: Type.String(),
  applicationId: Type.String(),
  paths: Type.Array(Type.String()),
  schedule: Type.Optional(Type.String()),
  retention: Type.Optional(Retention),
  timeZone: Type.Optional(Type.String()),
  policyDocument: Type.Optional(PolicyDocument),
  registeredAt: Type.String(),
});
export type Server = Static<typeof Server>;
export const ServerList = Type.Object({ servers: Type.Array(Server) });
export const ServerQuery = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) });

/**
 * A backup job's states. Waiting: an offline backup whose data travels on drives; nothing
 * restorable yet. When the seed lands a Waiting job becomes Completed (its snapshot is now
 * restorable) or Superseded (it left nothing restorable; the seed's recovery points replace it).
 */
export const JobState = Type.Union([
  Type.Literal('InProgress'),
  Type.Literal('Completed'),
  Type.Literal('CompletedWithWarnings'),
  Type.Literal('Failed'),
  Type.Literal('Waiting'),
  Type.Literal('Superseded'),
]);
export type JobState = Static<typeof JobState>;

export const StartJob = Type.Object(
  { kind: Type.Union([Type.Literal('online'), Type.Literal('offline'), Type.Literal('seed')]) },
  { additionalProperties: false },
);
export type StartJob = Static<typeof StartJob>;

/** The end of a hook's output the job keeps: its last lines, where the error is. */
export const HOOK_OUTPUT_TAIL = 4096;

/** How one hook ran. Its output is the tenant's data: it is shown only to the job's own subscription. */
export const HookRun = Type.Object(
  {
    command: Type.String({ maxLength: 2000 }),
    /** null: killed, or it could not start. */
    exitCode: Type.Union([Type.Integer(), Type.Null()]),
    signal: Type.Union([Type.String({ maxLength: 32 }), Type.Null()]),
    output: Type.String({ maxLength: HOOK_OUTPUT_TAIL }),
    durationMs: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type HookRun = Static<typeof HookRun>;

/** A backup's hooks: its own pre and post hook, and post hooks a killed run owed, run first. */
export const JobHooks = Type.Object(
  { pre: Type.Optional(HookRun), post: Type.Optional(HookRun), owed: Type.Optional(Type.Array(HookRun, { maxItems: 8 })) },
  { additionalProperties: false },
);
export type JobHooks = Static<typeof JobHooks>;

/** A command item the job stored (`agent protect --item NAME --command CMD`): its name and the bytes its command wrote. */
export const StoredItem = Type.Object(
  { name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' }), bytes: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type StoredItem = Static<typeof StoredItem>;

export const FinishJob = Type.Object(
  {
    state: Type.Union([Type.Literal('Completed'), Type.Literal('CompletedWithWarnings'), Type.Literal('Failed'), Type.Literal('Waiting')]),
    filesNew: Type.Integer({ minimum: 0 }),
    filesChanged: Type.Integer({ minimum: 0 }),
    filesUnchanged: Type.Integer({ minimum: 0 }),
    bytesRead: Type.Integer({ minimum: 0 }),
    bytesSent: Type.Integer({ minimum: 0 }),
    warnings: Type.Integer({ minimum: 0 }),
    error: Type.Optional(Type.String({ maxLength: 2000 })),
    message: Type.Optional(Type.String({ maxLength: 2000 })),
    /** A Waiting job's snapshot, restorable once the seed lands. */
    pendingSnapshotId: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    recoveryPoint: Type.Optional(
      Type.Object({
        snapshotId: Type.String({ pattern: '^[0-9a-f]{64}$' }),
        time: Type.String(),
        totalBytes: Type.Integer({ minimum: 0 }),
        files: Type.Integer({ minimum: 0 }),
      }),
    ),
    /** The retention the agent applied after the backup: the snapshots it forgot (their points go) and what the prune freed. */
    retention: Type.Optional(
      Type.Object(
        { forgotten: Type.Array(Type.String({ pattern: '^[0-9a-f]{64}$' }), { maxItems: 100_000 }), bytesFreed: Type.Integer({ minimum: 0 }) },
        { additionalProperties: false },
      ),
    ),
    hooks: Type.Optional(JobHooks),
    /** The command items the job stored, when the policy has any. */
    items: Type.Optional(Type.Array(StoredItem, { maxItems: 100 })),
  },
  { additionalProperties: false },
);
export type FinishJob = Static<typeof FinishJob>;

/** A recovery point as the agent names it: a snapshot of the server's repository. */
const PointOfSnapshot = Type.Object({
  snapshotId: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  time: Type.String(),
  totalBytes: Type.Integer({ minimum: 0 }),
  files: Type.Integer({ minimum: 0 }),
});

/** The seed landed: Waiting jobs whose snapshot is among `points` complete with it, the others are superseded. */
export const SettleWaitingJobs = Type.Object(
  { importJob: Type.String({ minLength: 2, maxLength: 64 }), points: Type.Array(PointOfSnapshot, { maxItems: 10_000 }) },
  { additionalProperties: false },
);
export type SettleWaitingJobs = Static<typeof SettleWaitingJobs>;
export const SettledJobs = Type.Object({ completed: Type.Integer(), superseded: Type.Integer() });
export type SettledJobs = Static<typeof SettledJobs>;

export const BackupJob = Type.Object({
  id: Type.String(),
  serverId: Type.String(),
  kind: Type.String(),
  state: JobState,
  startedAt: Type.String(),
  endedAt: Type.Optional(Type.String()),
  filesNew: Type.Integer(),
  filesChanged: Type.Integer(),
  filesUnchanged: Type.Integer(),
  bytesRead: Type.Integer(),
  bytesSent: Type.Integer(),
  warnings: Type.Integer(),
  error: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  snapshotId: Type.Optional(Type.String()),
  retention: Type.Optional(Type.Object({ pointsForgotten: Type.Integer(), bytesFreed: Type.Integer() })),
  progress: Type.Optional(Type.Object({ files: Type.Integer(), bytes: Type.Integer(), errors: Type.Integer(), sent: Type.Integer(), at: Type.String() })),
  hooks: Type.Optional(JobHooks),
  items: Type.Optional(Type.Array(StoredItem)),
});
export type BackupJob = Static<typeof BackupJob>;

/** What a running backup has done so far; the agent sends it about once a second. */
export const JobProgress = Type.Object(
  {
    files: Type.Integer({ minimum: 0, description: 'files found so far' }),
    bytes: Type.Integer({ minimum: 0, description: 'bytes read so far' }),
    errors: Type.Integer({ minimum: 0 }),
    sent: Type.Integer({ minimum: 0, description: 'bytes stored in the vault so far' }),
  },
  { additionalProperties: false },
);
export type JobProgress = Static<typeof JobProgress>;

export const RecoveryPoint = Type.Object({
  id: Type.String(),
  serverId: Type.String(),
  jobId: Type.String(),
  time: Type.String(),
  totalBytes: Type.Integer(),
  addedBytes: Type.Integer(),
  files: Type.Integer(),
  /** When the server's retention will forget it, if backups go on daily as they have (a forecast); absent: kept. */
  expiresAt: Type.Optional(Type.String()),
});
export type RecoveryPoint = Static<typeof RecoveryPoint>;

export const ServerStatus = Type.Object({ server: Server, jobs: Type.Array(BackupJob), recoveryPoints: Type.Array(RecoveryPoint) });
export type ServerStatus = Static<typeof ServerStatus>;

export const BlobListQuery = Type.Object({ prefix: Type.Optional(Type.String({ maxLength: 1000 })) });
export const BlobList = Type.Object({ blobs: Type.Array(Type.Object({ name: Type.String(), size: Type.Integer() })) });
/** A blob of a server's repository: its name is the rest of the path (`data/ab/ab…`). */
export const BlobParams = Type.Object({ ...ServerParams.properties, '*': Type.String({ minLength: 1, maxLength: 1000 }) });

/** Direct access to packs in the vault's blob storage, so pack bytes need not pass through the service. */
export const BlobGrantRequest = Type.Object(
  {
    access: Type.Union([Type.Literal('create'), Type.Literal('read')]),
    names: Type.Array(Type.String({ pattern: PACK_NAME_PATTERN }), { minItems: 1, maxItems: MAX_GRANTS_PER_REQUEST }),
  },
  { additionalProperties: false },
);
export type BlobGrantRequest = Static<typeof BlobGrantRequest>;

/**
 * `direct: false` when the vault's storage cannot hand out scoped URLs (a local directory):
 * the agent sends its packs through the service's blob API. Otherwise one signed URL per name,
 * valid for `expiresIn` seconds from the answer (counted on the agent's clock, so clock skew
 * between agent and service does not matter).
 */
export const BlobGrants = Type.Object({
  direct: Type.Boolean(),
  expiresIn: Type.Optional(Type.Integer({ minimum: 1 })),
  grants: Type.Array(Type.Object({ name: Type.String(), url: Type.String() })),
});
export type BlobGrants = Static<typeof BlobGrants>;

// ---- storage accounts ----------------------------------------------------------------------

/** Azure's rules: accounts 3–24 lower-case letters and digits; containers 3–63, with single hyphens. */
export const StorageAccountName = Type.String({ pattern: '^[a-z0-9]{3,24}$' });
export const ContainerName = Type.String({ pattern: '^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$' });
export const StorageAccountParams = Type.Object({ subscriptionId: Id, account: StorageAccountName });
export const ContainerParams = Type.Object({ subscriptionId: Id, account: StorageAccountName, container: ContainerName });
export const StorageAccount = Type.Object({
  name: Type.String(),
  createdAt: Type.String(),
  containers: Type.Array(Type.Object({ name: Type.String(), createdAt: Type.String() })),
});
export type StorageAccount = Static<typeof StorageAccount>;
export const StorageAccountList = Type.Object({ accounts: Type.Array(StorageAccount) });

// ---- seed completion ----------------------------------------------------------------------

export const CompleteSeed = Type.Object({ importJob: Type.String({ minLength: 2, maxLength: 64 }) }, { additionalProperties: false });
export const SeedCopy = Type.Object({
  importJob: Type.String(),
  copied: Type.Integer(),
  skipped: Type.Integer(),
  bytesCopied: Type.Integer(),
  /** Files in the container whose content does not match their name: not copied. */
  damaged: Type.Array(Type.String()),
});
export type SeedCopy = Static<typeof SeedCopy>;

// ---- import/export -------------------------------------------------------------------------

export const ImportJobParams = Type.Object({ subscriptionId: Id, jobName: Type.String({ maxLength: 64 }) });
export const ImportDriveParams = Type.Object({ subscriptionId: Id, jobName: Type.String({ maxLength: 64 }), driveId: Id });

export const CreateImportJob = Type.Object(
  {
    name: Type.String({ minLength: 2, maxLength: 64 }),
    storageAccount: StorageAccountName,
    container: ContainerName,
    drives: Type.Array(
      Type.Object({
        driveId: Id,
        key: Type.String({ minLength: 40, maxLength: 100 }),
        manifestSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
        files: Type.Integer({ minimum: 0 }),
        bytes: Type.Integer({ minimum: 0 }),
      }),
      { minItems: 1 },
    ),
    /** An offline delta (`agent backup-now --offline-delta`): a later import into a repository a seed began. */
    kind: Type.Optional(Type.Literal('delta')),
  },
  { additionalProperties: false },
);
export type CreateImportJob = Static<typeof CreateImportJob>;

const NonEmpty = (max: number) => Type.String({ minLength: 1, maxLength: max });
export const ShippingDetailsBody = Type.Object(
  {
    carrier: NonEmpty(50),
    trackingNumber: Type.String({ minLength: 4, maxLength: 50, pattern: '^[A-Za-z0-9-]+$' }),
    shipDate: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
    contactName: NonEmpty(100),
    phone: Type.String({ minLength: 5, maxLength: 30, pattern: '^[0-9+() -]+$' }),
    email: Type.String({ maxLength: 200, pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' }),
    returnAddress: NonEmpty(500),
    country: Type.String({ pattern: '^[A-Z]{2}$' }),
    postalCode: NonEmpty(20),
  },
  { additionalProperties: false },
);
export type ShippingDetails = Static<typeof ShippingDetailsBody>;

/** The states entered so far, oldest first. */
const StateHistory = Type.Array(Type.Object({ state: Type.String(), at: Type.String() }));

const DriveView = Type.Object({
  driveId: Type.String(),
  state: Type.String(),
  files: Type.Integer(),
  bytes: Type.Integer(),
  stateChangedAt: Type.String(),
  hasErrorLog: Type.Boolean(),
  history: Type.Optional(StateHistory),
});

export const ImportJob = Type.Object({
  id: Type.String(),
  name: Type.String(),
  storageAccount: Type.String(),
  container: Type.String(),
  state: Type.String(),
  /** 'delta' for an offline delta's import job; absent for a seed. */
  kind: Type.Optional(Type.Literal('delta')),
  createdAt: Type.String(),
  stateChangedAt: Type.String(),
  shippedAt: Type.Optional(Type.String()),
  shipping: Type.Optional(ShippingDetailsBody),
  deadline: Type.Optional(Type.Object({ what: Type.String(), at: Type.String() })),
  drives: Type.Array(DriveView),
  history: Type.Optional(StateHistory),
  shippingAddress: Type.Optional(Type.String()),
});
export type ImportJob = Static<typeof ImportJob>;

export const ImportJobList = Type.Object({ jobs: Type.Array(ImportJob) });
export const DriveLogs = Type.Object({ errorLog: Type.String(), verboseLog: Type.String() });

/** Export jobs (restore by drive) belong to the server whose recovery point they carry. */
export const ExportJobParams = Type.Object({
  subscriptionId: Id,
  vaultName: VaultParams.properties.vaultName,
  serverId: Id,
  jobName: Type.String({ maxLength: 64 }),
});
/** Pack names as the agent sends them; the service checks each against PACK_NAME_PATTERN and its repository (a clear line for `../`). */
const ExportPacks = Type.Array(Type.String({ maxLength: 100 }), { maxItems: MAX_EXPORT_PACKS_PER_REQUEST });
export const CreateExportJob = Type.Object(
  {
    name: Type.String({ minLength: 2, maxLength: 64 }),
    snapshotId: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    packs: ExportPacks,
  },
  { additionalProperties: false },
);
export const AddExportPacks = Type.Object({ packs: ExportPacks }, { additionalProperties: false });
export const ExportJob = Type.Object({
  id: Type.String(),
  name: Type.String(),
  serverId: Type.String(),
  serverName: Type.String(),
  vaultName: Type.String(),
  snapshotId: Type.String(),
  state: Type.String(),
  createdAt: Type.String(),
  stateChangedAt: Type.String(),
  shippedAt: Type.Optional(Type.String()),
  shipping: Type.Optional(ShippingDetailsBody),
  returnTrackingNumber: Type.Optional(Type.String()),
  deadline: Type.Optional(Type.Object({ what: Type.String(), at: Type.String() })),
  files: Type.Integer(),
  bytes: Type.Integer(),
  drives: Type.Array(
    Type.Object({
      driveId: Type.String(),
      state: Type.String(),
      files: Type.Integer(),
      bytes: Type.Integer(),
      stateChangedAt: Type.String(),
      history: Type.Optional(StateHistory),
      key: Type.Optional(Type.String()),
      manifestSha256: Type.Optional(Type.String()),
    }),
  ),
  history: Type.Optional(StateHistory),
  shippingAddress: Type.Optional(Type.String()),
});
export type ExportJob = Static<typeof ExportJob>;
export const ExportJobList = Type.Object({ jobs: Type.Array(ExportJob) });
export const ExportFileList = Type.Object({ files: Type.Array(Type.Object({ name: Type.String(), size: Type.Integer() })) });
export type ExportFileList = Static<typeof ExportFileList>;

// ---- console -------------------------------------------------------------------------------

export const SignIn = Type.Object(
  { key: Type.String({ minLength: 1, maxLength: 200, description: 'a subscription owner key, or the operator key' }) },
  { additionalProperties: false },
);
export type SignIn = Static<typeof SignIn>;

export const Session = Type.Object({
  role: Type.Union([Type.Literal('owner'), Type.Literal('operator')]),
  subscriptionId: Type.Optional(Type.String()),
  expiresAt: Type.String(),
});
export type Session = Static<typeof Session>;

/** A backup job as the console lists it: with the names of its server and vault. */
export const ConsoleBackupJob = Type.Object({ ...BackupJob.properties, serverName: Type.String(), vaultName: Type.String() });
export type ConsoleBackupJob = Static<typeof ConsoleBackupJob>;
export const ConsoleBackupJobList = Type.Object({ jobs: Type.Array(ConsoleBackupJob) });
export type ConsoleBackupJobList = Static<typeof ConsoleBackupJobList>;
export const BackupJobQuery = Type.Object({
  state: Type.Optional(JobState),
  serverId: Type.Optional(Id),
  // A string: query strings are not coerced, and a limit is only ever a handful of digits.
  limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]{0,1}|[1-4][0-9]{2}|500)$', description: '1 to 500; 100 when not given' })),
});
export const BackupJobParams = Type.Object({ subscriptionId: Id, jobId: Id });

export const ProtectedItem = Type.Object({
  serverId: Type.String(),
  serverName: Type.String(),
  vaultName: Type.String(),
  paths: Type.Array(Type.String()),
  lastJob: Type.Optional(ConsoleBackupJob),
  /**
   * The server's command items as its latest job that stored any had them: each one's size
   * then, and that job. The last job's state is `lastJob`'s: a dump that fails fails the job.
   */
  commandItems: Type.Array(Type.Object({ name: Type.String(), bytes: Type.Integer(), jobId: Type.String(), storedAt: Type.String() })),
  recoveryPoints: Type.Integer(),
  storedBytes: Type.Integer({ description: 'bytes the vault stores for the item (sum of what each recovery point added)' }),
});
export type ProtectedItem = Static<typeof ProtectedItem>;

export const Attention = Type.Object({
  kind: Type.Union([
    Type.Literal('backup-failed'),
    Type.Literal('no-recovery-point'),
    Type.Literal('deadline-near'),
    Type.Literal('drive-needs-info'),
    Type.Literal('drive-never-received'),
    Type.Literal('job-stalled'),
    Type.Literal('backup-missed'),
  ]),
  message: Type.String(),
  /** The console path that shows the detail. */
  link: Type.String(),
});
export type Attention = Static<typeof Attention>;

export const Overview = Type.Object({
  vaults: Type.Array(Type.Object({ name: Type.String(), servers: Type.Integer() })),
  items: Type.Array(ProtectedItem),
  storedBytes: Type.Integer(),
  importJobs: Type.Integer(),
  attention: Type.Array(Attention),
});
export type Overview = Static<typeof Overview>;

// ---- alerts --------------------------------------------------------------------------------

/** A condition the service raised once, resolved when it cleared (docs/alerts.md). */
export const Alert = Type.Object({
  id: Type.String(),
  kind: Attention.properties.kind,
  /** With kind, what makes the alert one: the server, drive or import job it is about. */
  subject: Type.String(),
  vaultName: Type.Optional(Type.String()),
  message: Type.String(),
  link: Type.String(),
  raisedAt: Type.String(),
  resolvedAt: Type.Optional(Type.String()),
});
export type Alert = Static<typeof Alert>;
export const AlertList = Type.Object({ alerts: Type.Array(Alert) });
export type AlertList = Static<typeof AlertList>;
export const AlertQuery = Type.Object({
  state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('all')], { description: 'open (default) or all' })),
});

export const AlertTargetKind = Type.Union([Type.Literal('email'), Type.Literal('webhook')]);
export const CreateAlertTarget = Type.Object(
  {
    kind: AlertTargetKind,
    /** An e-mail address, or the webhook's http(s) URL. */
    address: Type.String({ minLength: 3, maxLength: 2000 }),
    /** Only this vault's alerts (none: all of the subscription's). */
    vaultName: Type.Optional(VaultParams.properties.vaultName),
  },
  { additionalProperties: false },
);
export type CreateAlertTarget = Static<typeof CreateAlertTarget>;
export const AlertTarget = Type.Object({
  id: Type.String(),
  kind: AlertTargetKind,
  address: Type.String(),
  vaultName: Type.Optional(Type.String()),
  createdAt: Type.String(),
  /** The webhook's signing secret: in the answer that creates the target only. */
  secret: Type.Optional(Type.String()),
  /** The last delivery's outcome, if any. */
  lastDelivery: Type.Optional(Type.Object({ state: Type.String(), attempts: Type.Integer(), error: Type.Optional(Type.String()), at: Type.String() })),
});
export type AlertTarget = Static<typeof AlertTarget>;
export const AlertTargetList = Type.Object({ targets: Type.Array(AlertTarget) });
export type AlertTargetList = Static<typeof AlertTargetList>;
export const AlertTargetParams = Type.Object({ subscriptionId: Id, targetId: Id });

export const OperatorImportJob = Type.Object({ ...ImportJob.properties, subscriptionId: Type.String() });
export type OperatorImportJob = Static<typeof OperatorImportJob>;
export const QueuedDrive = Type.Object({
  subscriptionId: Type.String(),
  jobName: Type.String(),
  driveId: Type.String(),
  state: Type.String(),
  since: Type.String(),
  bytes: Type.Integer(),
  /** From the import queue: queued or running, which worker holds it, how far it got. */
  queue: Type.Optional(Type.Object({ state: Type.String(), claimedBy: Type.Optional(Type.String()), bytesDone: Type.Integer(), bytesTotal: Type.Integer() })),
});
export type QueuedDrive = Static<typeof QueuedDrive>;
export const DatacenterView = Type.Object({
  incoming: Type.Array(OperatorImportJob, { description: 'jobs whose drives are on the way (Shipping)' }),
  queue: Type.Array(QueuedDrive, { description: 'drives received and waiting or being imported' }),
  jobs: Type.Array(OperatorImportJob),
});
export type DatacenterView = Static<typeof DatacenterView>;
