import { sql, type Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

/** Migrations live in code, in order; kysely's Migrator records which ran. Never edit one that shipped. */
const migrations: Record<string, Migration> = {
  '0001_identity': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('subscriptions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('owner_key_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('applications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subscription_id', 'text', (c) => c.notNull().references('subscriptions.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('applications_name_unique', ['subscription_id', 'name'])
        .execute();
      await db.schema
        .createTable('certificates')
        .addColumn('thumbprint', 'text', (c) => c.notNull())
        .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id'))
        .addColumn('subscription_id', 'text', (c) => c.notNull().references('subscriptions.id'))
        .addColumn('certificate_pem', 'text', (c) => c.notNull())
        .addColumn('not_before', 'text', (c) => c.notNull())
        .addColumn('not_after', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('certificates_pk', ['application_id', 'thumbprint'])
        .execute();
      await db.schema
        .createTable('used_assertions')
        .addColumn('jti', 'text', (c) => c.primaryKey())
        .addColumn('application_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('service_secrets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0002_vault': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('vaults')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subscription_id', 'text', (c) => c.notNull().references('subscriptions.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('vaults_name_unique', ['subscription_id', 'name'])
        .execute();
      await db.schema
        .createTable('servers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('vault_id', 'text', (c) => c.notNull().references('vaults.id'))
        .addColumn('subscription_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id'))
        .addColumn('paths', 'text', (c) => c.notNull())
        .addColumn('schedule', 'text')
        .addColumn('registered_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('servers_name_unique', ['vault_id', 'name'])
        .execute();
      await db.schema
        .createTable('backup_jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('vault_id', 'text', (c) => c.notNull().references('vaults.id'))
        .addColumn('server_id', 'text', (c) => c.notNull().references('servers.id'))
        .addColumn('subscription_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text')
        .addColumn('files_new', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('files_changed', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('files_unchanged', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('bytes_read', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('bytes_sent', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('warnings', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .addColumn('snapshot_id', 'text')
        .execute();
      await db.schema
        .createTable('recovery_points')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('vault_id', 'text', (c) => c.notNull().references('vaults.id'))
        .addColumn('server_id', 'text', (c) => c.notNull().references('servers.id'))
        .addColumn('subscription_id', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('total_bytes', 'bigint', (c) => c.notNull())
        .addColumn('added_bytes', 'bigint', (c) => c.notNull())
        .addColumn('files', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('backup_jobs_server').on('backup_jobs').columns(['server_id', 'started_at']).execute();
      await db.schema.createIndex('recovery_points_server').on('recovery_points').columns(['server_id', 'time']).execute();
    },
  },
  '0003_importexport': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('import_jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subscription_id', 'text', (c) => c.notNull().references('subscriptions.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('storage_account', 'text', (c) => c.notNull())
        .addColumn('container', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('state_changed_at', 'text', (c) => c.notNull())
        .addColumn('shipped_at', 'text')
        .addColumn('shipping', 'text')
        .addColumn('tracking_number', 'text')
        .addUniqueConstraint('import_jobs_name_unique', ['subscription_id', 'name'])
        // Two jobs can never share a tracking number (one package, one job).
        .addUniqueConstraint('import_jobs_tracking_unique', ['tracking_number'])
        .execute();
      await db.schema
        .createTable('import_drives')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('job_id', 'text', (c) => c.notNull().references('import_jobs.id').onDelete('cascade'))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('drive_key', 'text', (c) => c.notNull())
        .addColumn('manifest_sha256', 'text', (c) => c.notNull())
        .addColumn('files', 'bigint', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('state_changed_at', 'text', (c) => c.notNull())
        .addColumn('error_log', 'text')
        .addColumn('verbose_log', 'text')
        .execute();
    },
  },
  '0004_storage_and_import_queue': {
    async up(db: Kysely<any>) {
      // Account names are global, as in Azure: one subscription owns each.
      await db.schema
        .createTable('storage_accounts')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('subscription_id', 'text', (c) => c.notNull().references('subscriptions.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('storage_containers')
        .addColumn('account', 'text', (c) => c.notNull().references('storage_accounts.name').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('storage_containers_pk', ['account', 'name'])
        .execute();
      // Drive imports wait here until a worker (any service instance, or the operator's CLI)
      // claims one; a claim whose heartbeat stops is taken over, so a killed import resumes.
      await db.schema
        .createTable('import_queue')
        .addColumn('drive_id', 'text', (c) => c.primaryKey().references('import_drives.id').onDelete('cascade'))
        .addColumn('job_id', 'text', (c) => c.notNull().references('import_jobs.id').onDelete('cascade'))
        .addColumn('drive_path', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('claimed_by', 'text')
        .addColumn('heartbeat_at', 'text')
        .addColumn('bytes_done', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('bytes_total', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('enqueued_at', 'text', (c) => c.notNull())
        .execute();
      // What a job that stored nothing says (an offline backup waiting for its import job).
      await db.schema.alterTable('backup_jobs').addColumn('message', 'text').execute();
      await db.schema.createIndex('import_queue_state').on('import_queue').columns(['state', 'enqueued_at']).execute();
    },
  },
  '0005_console_sessions': {
    async up(db: Kysely<any>) {
      // The console's sign-ins: only a hash of the cookie's token is kept, so a database dump signs nobody in.
      await db.schema
        .createTable('console_sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('subscription_id', 'text', (c) => c.references('subscriptions.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('console_sessions_expiry').on('console_sessions').column('expires_at').execute();
      // A running backup's last reported progress, so any instance can stream it to the console.
      await db.schema.alterTable('backup_jobs').addColumn('progress_files', 'bigint').execute();
      await db.schema.alterTable('backup_jobs').addColumn('progress_bytes', 'bigint').execute();
      await db.schema.alterTable('backup_jobs').addColumn('progress_errors', 'bigint').execute();
      await db.schema.alterTable('backup_jobs').addColumn('progress_sent', 'bigint').execute();
      await db.schema.alterTable('backup_jobs').addColumn('progress_at', 'text').execute();
    },
  },
  '0006_import_history': {
    async up(db: Kysely<any>) {
      // Every state a job and its drives went through, with when: the console's timeline.
      await db.schema
        .createTable('import_events')
        .addColumn('job_id', 'text', (c) => c.notNull().references('import_jobs.id').onDelete('cascade'))
        .addColumn('drive_id', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('import_events_job').on('import_events').columns(['job_id', 'at']).execute();
    },
  },
  '0007_job_liveness': {
    async up(db: Kysely<any>) {
      // The agent's last sign of life for a running job: a job whose heartbeats stop is closed
      // by the service, so no job shows InProgress forever.
      await db.schema.alterTable('backup_jobs').addColumn('heartbeat_at', 'text').execute();
      // The snapshot a Waiting job made, restorable once its seed lands: the job then completes with it.
      await db.schema.alterTable('backup_jobs').addColumn('pending_snapshot_id', 'text').execute();
    },
  },
  '0008_retention': {
    async up(db: Kysely<any>) {
      // The keep rules the agent applies after each backup, for the console to show (JSON).
      await db.schema.alterTable('servers').addColumn('retention', 'text').execute();
      // What that retention did, on the job that ran it.
      await db.schema.alterTable('backup_jobs').addColumn('points_forgotten', 'integer').execute();
      await db.schema.alterTable('backup_jobs').addColumn('bytes_freed', 'bigint').execute();
    },
  },
  '0009_forget_settled_drive_keys': {
    async up(db: Kysely<any>) {
      // Drives imported, and jobs ended, before keys were forgotten then (import-jobs.ts: finishDrive, shipBack, cancel).
      const ended = db.selectFrom('import_jobs').select('id').where('state', 'in', ['Completed', 'Closed', 'Canceled']);
      await db
        .updateTable('import_drives')
        .set({ drive_key: '' })
        .where((eb) => eb.or([eb('state', 'in', ['Completed', 'CompletedMoreInfo', 'ShippedBack']), eb('job_id', 'in', ended)]))
        .execute();
    },
  },
  '0010_export_jobs': {
    async up(db: Kysely<any>) {
      // Restore by drive: one recovery point of one server, written by the data centre onto the customer's blank drives.
      await db.schema
        .createTable('export_jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subscription_id', 'text', (c) => c.notNull().references('subscriptions.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('server_id', 'text', (c) => c.notNull().references('servers.id').onDelete('cascade'))
        .addColumn('snapshot_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('state_changed_at', 'text', (c) => c.notNull())
        .addColumn('shipped_at', 'text')
        .addColumn('shipping', 'text')
        .addColumn('tracking_number', 'text')
        .addColumn('return_tracking_number', 'text')
        .addUniqueConstraint('export_jobs_name_unique', ['subscription_id', 'name'])
        .addUniqueConstraint('export_jobs_tracking_unique', ['tracking_number'])
        .execute();
      // The repository files the job carries, each checked to be in the server's repository when named.
      await db.schema
        .createTable('export_files')
        .addColumn('job_id', 'text', (c) => c.notNull().references('export_jobs.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('export_files_pk', ['job_id', 'name'])
        .execute();
      await db.schema
        .createTable('export_drives')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('job_id', 'text', (c) => c.notNull().references('export_jobs.id').onDelete('cascade'))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('drive_key', 'text', (c) => c.notNull())
        .addColumn('manifest_sha256', 'text', (c) => c.notNull())
        .addColumn('files', 'integer', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('state_changed_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('export_events')
        .addColumn('job_id', 'text', (c) => c.notNull().references('export_jobs.id').onDelete('cascade'))
        .addColumn('drive_id', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('export_events_job').on('export_events').columns(['job_id', 'at']).execute();
    },
  },
  '0011_offline_delta': {
    async up(db: Kysely<any>) {
      // 'delta' for an offline delta's import job (agent backup-now --offline-delta); null for a seed, as every older job.
      await db.schema.alterTable('import_jobs').addColumn('kind', 'text').execute();
    },
  },
  '0012_alerts': {
    async up(db: Kysely<any>) {
      // The agent's whole policy (docs/policy-document.md) and its time zone, so a recovered
      // machine gets all of it back and the service reads schedules in the agent's zone.
      await db.schema.alterTable('servers').addColumn('policy_document', 'text').execute();
      await db.schema.alterTable('servers').addColumn('time_zone', 'text').execute();
      await db.schema.alterTable('servers').addColumn('policy_at', 'text').execute();
      // Where a subscription's alerts go: an e-mail address or a webhook URL (with its signing secret).
      await db.schema
        .createTable('alert_targets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subscription_id', 'text', (c) => c.notNull().references('subscriptions.id').onDelete('cascade'))
        .addColumn('vault_name', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('secret', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('alert_targets_subscription').on('alert_targets').column('subscription_id').execute();
      // One row a condition, from when it was raised until it cleared.
      await db.schema
        .createTable('alerts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subscription_id', 'text', (c) => c.notNull().references('subscriptions.id').onDelete('cascade'))
        .addColumn('vault_name', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('link', 'text', (c) => c.notNull())
        .addColumn('raised_at', 'text', (c) => c.notNull())
        .addColumn('resolved_at', 'text')
        .execute();
      // An open alert is raised once: two instances (or two ticks) racing insert one row.
      await db.schema
        .createIndex('alerts_open_unique')
        .on('alerts')
        .columns(['subscription_id', 'kind', 'subject'])
        .unique()
        .where(sql.ref('resolved_at'), 'is', null)
        .execute();
      await db.schema.createIndex('alerts_subscription_time').on('alerts').columns(['subscription_id', 'raised_at']).execute();
      // Each message an alert's raising or clearing owes a target, until it is delivered or given up.
      await db.schema
        .createTable('alert_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('alert_id', 'text', (c) => c.notNull().references('alerts.id').onDelete('cascade'))
        .addColumn('target_id', 'text', (c) => c.notNull().references('alert_targets.id').onDelete('cascade'))
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('delivered_at', 'text')
        .execute();
      await db.schema.createIndex('alert_deliveries_due').on('alert_deliveries').columns(['state', 'next_attempt_at']).execute();
    },
  },
  '0013_hook_output': {
    async up(db: Kysely<any>) {
      // How the job's hooks ran (exit code, signal, output tail, duration), as the agent reported them: JSON, bounded by FinishJob.
      await db.schema.alterTable('backup_jobs').addColumn('hooks', 'text').execute();
      // The command items it stored, each with its size (JSON): the console's items and their last size.
      await db.schema.alterTable('backup_jobs').addColumn('items', 'text').execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
