/*
 * The service's one relational schema, the same on SQLite and PostgreSQL. Timestamps are ISO
 * 8601 text in UTC and ids are text, so both engines store and compare them the same way.
 */

export interface SubscriptionTable {
  id: string;
  name: string;
  owner_key_hash: string;
  created_at: string;
}

export interface ApplicationTable {
  id: string;
  subscription_id: string;
  name: string;
  created_at: string;
}

export interface CertificateTable {
  thumbprint: string;
  application_id: string;
  subscription_id: string;
  certificate_pem: string;
  not_before: string;
  not_after: string;
  revoked_at: string | null;
  created_at: string;
}

/** Assertion ids seen until they expire: a replayed client assertion is refused. */
export interface UsedAssertionTable {
  jti: string;
  application_id: string;
  expires_at: string;
}

/** Secrets the service instances share (the token signing key), so any instance validates any token. */
export interface ServiceSecretTable {
  name: string;
  value: string;
  created_at: string;
}

export interface VaultTable {
  id: string;
  subscription_id: string;
  name: string;
  created_at: string;
}

/** A protected server: one repository in the vault, written by one application. */
export interface ServerTable {
  id: string;
  vault_id: string;
  subscription_id: string;
  name: string;
  application_id: string;
  paths: string;
  schedule: string | null;
  registered_at: string;
  /** The agent's keep rules as JSON (null: every point is kept); the agent applies them, the console shows them. */
  retention?: string | null;
  /** The agent's whole policy, a versioned JSON document (docs/policy-document.md): what a recovered machine gets back. */
  policy_document?: string | null;
  /** The agent's IANA time zone: its schedule and retention days are in it. */
  time_zone?: string | null;
  /** When the policy was last set: a schedule is owed runs from then on. */
  policy_at?: string | null;
}

export interface BackupJobTable {
  id: string;
  vault_id: string;
  server_id: string;
  subscription_id: string;
  kind: string;
  state: string;
  started_at: string;
  ended_at: string | null;
  files_new: number;
  files_changed: number;
  files_unchanged: number;
  bytes_read: number;
  bytes_sent: number;
  warnings: number;
  error: string | null;
  snapshot_id: string | null;
  message: string | null;
  /** The agent's last progress report while the job runs (null before the first). */
  progress_files?: number | null;
  progress_bytes?: number | null;
  progress_errors?: number | null;
  progress_sent?: number | null;
  progress_at?: string | null;
  /** The agent's last heartbeat while the job runs. */
  heartbeat_at?: string | null;
  /** The snapshot a Waiting job made, to become its recovery point when the seed lands. */
  pending_snapshot_id?: string | null;
  /** What the retention after this backup did: points forgotten and bytes pruned (null: it did not run). */
  points_forgotten?: number | null;
  bytes_freed?: number | null;
  /** How the job's hooks ran (JobHooks as JSON); null: the job had none. */
  hooks?: string | null;
  /** The command items it stored (StoredItem[] as JSON); null: none. */
  items?: string | null;
}

export interface RecoveryPointTable {
  id: string;
  vault_id: string;
  server_id: string;
  subscription_id: string;
  job_id: string;
  time: string;
  total_bytes: number;
  added_bytes: number;
  files: number;
}

export interface ImportJobTable {
  id: string;
  subscription_id: string;
  name: string;
  storage_account: string;
  container: string;
  state: string;
  created_at: string;
  state_changed_at: string;
  shipped_at: string | null;
  /** JSON of the shipping details (carrier, ship date, contact, return address). */
  shipping: string | null;
  tracking_number: string | null;
  /** 'delta' for an offline delta; null for a seed (migration 0011). */
  kind: string | null;
}

export interface ImportDriveTable {
  id: string;
  job_id: string;
  state: string;
  /** The drive key (base64): the service needs it to unlock the drive; it never leaves the service, and is emptied once the drive's import is over. */
  drive_key: string;
  manifest_sha256: string;
  files: number;
  bytes: number;
  state_changed_at: string;
  error_log: string | null;
  verbose_log: string | null;
}

/** A named group of containers, owned by one subscription; names are unique service-wide. */
export interface StorageAccountTable {
  name: string;
  subscription_id: string;
  created_at: string;
}

export interface StorageContainerTable {
  account: string;
  name: string;
  created_at: string;
}

export type QueueState = 'queued' | 'running' | 'done';

/** One drive waiting for, or going through, the data-centre import. */
export interface ImportQueueTable {
  drive_id: string;
  job_id: string;
  drive_path: string;
  state: QueueState;
  claimed_by: string | null;
  heartbeat_at: string | null;
  bytes_done: number;
  bytes_total: number;
  enqueued_at: string;
}

/** A console sign-in: an owner of one subscription, or the data centre's operator. */
export interface ConsoleSessionTable {
  token_hash: string;
  role: string;
  subscription_id: string | null;
  created_at: string;
  expires_at: string;
}

/** One state a job (drive_id null) or one of its drives entered, and when. */
export interface ImportEventTable {
  job_id: string;
  drive_id: string | null;
  state: string;
  at: string;
}

/** Where a subscription's alerts go: e-mail (address) or a signed webhook (URL and secret). */
export interface AlertTargetTable {
  id: string;
  subscription_id: string;
  /** Only this vault's alerts; null: every vault's and the import jobs'. */
  vault_name: string | null;
  kind: 'email' | 'webhook';
  address: string;
  /** The webhook's HMAC-SHA256 key (null for e-mail). */
  secret: string | null;
  created_at: string;
}

/** One condition that needs a person, raised once (kind + subject) and resolved when it clears. */
export interface AlertTable {
  id: string;
  subscription_id: string;
  vault_name: string | null;
  kind: string;
  /** What the condition is about (a server, a drive, an import job's deadline): with kind, what makes it one alert. */
  subject: string;
  message: string;
  link: string;
  raised_at: string;
  resolved_at: string | null;
}

/** A message owed to one target for an alert's raising or resolving, retried with backoff. */
export interface AlertDeliveryTable {
  /** Also the webhook's delivery id: the same on every retry, so a receiver can drop repeats. */
  id: string;
  alert_id: string;
  target_id: string;
  event: 'raised' | 'resolved';
  /** The exact JSON body sent (and signed), fixed when the delivery is made. */
  body: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  delivered_at: string | null;
}

/** An export job: one recovery point of one server, for the data centre to write onto drives (restore by drive). */
export interface ExportJobTable {
  id: string;
  subscription_id: string;
  name: string;
  server_id: string;
  snapshot_id: string;
  state: string;
  created_at: string;
  state_changed_at: string;
  shipped_at: string | null;
  /** JSON of the shipping details of the blank drives (carrier, tracking, contact, return address). */
  shipping: string | null;
  tracking_number: string | null;
  /** The data centre's tracking number for the drives on their way back. */
  return_tracking_number: string | null;
}

/** One repository file an export job carries, with its size in the vault. */
export interface ExportFileTable {
  job_id: string;
  name: string;
  size: number;
}

export interface ExportDriveTable {
  id: string;
  job_id: string;
  state: string;
  /** The drive key (base64): kept for the customer, who needs it to read the drive; never written to it. */
  drive_key: string;
  manifest_sha256: string;
  files: number;
  bytes: number;
  state_changed_at: string;
}

export interface Database {
  subscriptions: SubscriptionTable;
  applications: ApplicationTable;
  certificates: CertificateTable;
  used_assertions: UsedAssertionTable;
  service_secrets: ServiceSecretTable;
  vaults: VaultTable;
  servers: ServerTable;
  backup_jobs: BackupJobTable;
  recovery_points: RecoveryPointTable;
  import_jobs: ImportJobTable;
  import_drives: ImportDriveTable;
  storage_accounts: StorageAccountTable;
  storage_containers: StorageContainerTable;
  import_queue: ImportQueueTable;
  import_events: ImportEventTable;
  console_sessions: ConsoleSessionTable;
  alert_targets: AlertTargetTable;
  alerts: AlertTable;
  alert_deliveries: AlertDeliveryTable;
  export_jobs: ExportJobTable;
  export_files: ExportFileTable;
  export_drives: ExportDriveTable;
  export_events: ImportEventTable;
}
