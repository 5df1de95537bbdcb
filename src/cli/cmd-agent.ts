import { Command } from 'commander';
import { resolve } from 'node:path';
import { loadAgentConfig, storeCertificate, updateAgentConfig, type OfflinePolicy } from '../client/agent/agent-config.js';
import { backupNow, type BackupNowResult } from '../client/agent/backup-now.js';
import { assertJobName, jobDirectory } from '../client/common/staging.js';
import { prepareOfflineSeeding } from '../client/agent/offline-protection.js';
import { withdrawSeed } from '../client/agent/seed-completion.js';
import { readPublishSettings } from '../client/common/publish-settings.js';
import { ServiceClient } from '../api/service-client.js';
import { defaultServerName, openVaultSession } from '../client/agent/vault-session.js';
import { restore } from '../core/backup/restorer.js';
import { DriveseedError } from '../core/errors.js';
import { Repository } from '../core/repo/repository.js';
import { findSnapshot } from '../core/repo/snapshot.js';
import type { BackupJob } from '../api/schemas.js';
import { parseLinkSpeed, parseRate, parseSize } from '../core/storage/throttle.js';
import { estimateSeed, type SeedEstimate } from '../client/agent/ship-or-upload.js';
import { EXIT_PARTIAL } from './cmd-backup.js';
import { collect, printJson, readPassword } from './common.js';
import { formatBytes, ProgressLine, renderTransfer } from './progress.js';

/** The agent takes the password like the engine does, or from the file recorded at registration. */
async function agentPassword(flags: { passwordFile?: string }): Promise<string> {
  const config = await loadAgentConfig();
  return readPassword({ passwordFile: flags.passwordFile ?? (process.env.DRIVESEED_PASSWORD ? undefined : config.passwordFile) });
}

export function agentCommand(): Command {
  const agent = new Command('agent').description('the protected server: register with a vault, protect paths, back up, restore');

  agent
    .command('register')
    .description('register this server with a vault (made if absent), with its own application and certificate')
    .requiredOption('--publish-settings <file>', 'publish-settings file')
    .requiredOption('--vault <name>', 'vault name (lower-case letters, digits, -)')
    .option('--name <server>', 'server name in the vault', defaultServerName())
    .option('--password-file <file>', 'repository password file, remembered for scheduled backups')
    .option('--json', 'print the registration as JSON')
    .action(async (flags: { publishSettings: string; vault: string; name: string; passwordFile?: string; json?: boolean }) => {
      const settings = await readPublishSettings(flags.publishSettings);
      const owner = new ServiceClient(settings.serviceUrl, { ownerKey: settings.ownerKey });
      const vault = { subscriptionId: settings.subscriptionId, vaultName: flags.vault };
      await owner.request('ensureVault', { params: vault });
      const applicationId = await agentApplication(owner, settings.subscriptionId, flags.name);
      const server = await owner.request('registerServer', { params: vault, body: { name: flags.name, applicationId } });
      await updateAgentConfig((c) => {
        c.registration = { serviceUrl: settings.serviceUrl, subscriptionId: settings.subscriptionId, vault: flags.vault, serverId: server.id, serverName: server.name, applicationId };
        if (flags.passwordFile) c.passwordFile = resolve(flags.passwordFile);
      });
      if (flags.json) printJson(server);
      else console.log(`registered server ${server.name} (${server.id}) with vault ${flags.vault}`);
    });

  agent
    .command('protect')
    .description('set what this server backs up, and when; with --offline, the first full backup goes to staging and travels on drives')
    .argument('<path...>', 'files and directories to protect')
    .option('--schedule <cron>', 'cron expression for `agent run` (e.g. "0 2 * * *")')
    .option('-e, --exclude <glob>', 'leave out matching paths (repeatable)', collect)
    .option('--limit-upload <rate>', 'upload bandwidth limit, e.g. 2M or 512KiB (bytes per second)')
    .option('--offline', 'offline seeding: stage the first full backup for shipping on drives')
    .option('--staging <dir>', 'staging location for the offline backup (a local disk or a share the copy computer reads)')
    .option('--job <name>', 'import job name: lower-case letters, digits, - and _, starting with a letter')
    .option('--storage-account <name>', 'storage account the import lands in (made if absent)')
    .option('--container <name>', 'container in that storage account (made if absent)')
    .option('--heal-limit <size>', 'most the seed completion sends over the network for what the import did not deliver; more needs replacement drives (default 1GiB)')
    .action(async (paths: string[], flags: ProtectFlags) => {
      if (flags.schedule) await validateCron(flags.schedule);
      const offline = flags.offline ? offlinePolicyOf(flags) : undefined;
      const session = await openVaultSession();
      if (offline) await prepareOfflineSeeding(session, offline);
      // A seed given up for another (or for none) takes back what it put in the vault in transit.
      const previous = session.config.policy?.offline;
      if (previous && previous.jobName !== offline?.jobName) await withdrawSeed(session.store, previous);
      const policy = { paths: paths.map((p) => resolve(p)), excludes: flags.exclude ?? [], schedule: flags.schedule, limitUpload: flags.limitUpload ? parseRate(flags.limitUpload) : undefined, offline };
      await session.client.request('setPolicy', { params: session.server, body: { paths: policy.paths, ...(policy.schedule ? { schedule: policy.schedule } : {}) } });
      await updateAgentConfig((c) => {
        c.policy = policy;
      });
      console.log(`protecting ${policy.paths.join(', ')}${policy.schedule ? ` on schedule "${policy.schedule}"` : ''}`);
      if (offline) console.log(`offline seeding: the next backup goes to ${jobDirectory(offline.staging, offline.jobName)} for import job ${offline.jobName} into ${offline.storageAccount}/${offline.container}`);
    });

  agent
    .command('backup-now')
    .description('back up the protected paths into the vault now')
    .option('--password-file <file>', 'repository password file (env DRIVESEED_PASSWORD)')
    .option('--json', 'print the job as JSON')
    .action(async (flags: { passwordFile?: string; json?: boolean }) => {
      const progress = new ProgressLine();
      const result = await backupNow(await agentPassword(flags), (p) => progress.update((t) => renderTransfer(t, p.files, p.bytes)));
      progress.done();
      if (flags.json) printJson({ ...result.job, warningsList: result.warnings, ...(result.seed ? { seed: { job: result.seed.job, copy: result.seed.copy, healed: result.seed.healed } } : {}), traffic: result.traffic });
      else printBackupOutcome(result);
      if (result.warnings.length > 0) process.exitCode = EXIT_PARTIAL;
    });

  agent
    .command('status')
    .description('registration, protection policy, recent jobs and recovery points')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }) => {
      const session = await openVaultSession();
      const status = await session.client.request('serverStatus', { params: session.server });
      if (flags.json) {
        printJson(status);
        return;
      }
      console.log(`server ${status.server.name} in vault ${session.registration.vault} at ${session.registration.serviceUrl}`);
      console.log(`protected: ${status.server.paths.join(', ') || '(nothing yet)'}${status.server.schedule ? `; schedule ${status.server.schedule}` : ''}`);
      const offline = session.config.policy?.offline;
      if (offline) console.log(`offline seeding: import job ${offline.jobName} into ${offline.storageAccount}/${offline.container}, ${offline.seeded ? 'seed completed' : `staging ${offline.staging}`}`);
      for (const job of status.jobs.slice(0, 10)) console.log(`job ${job.id.slice(0, 8)} ${job.kind} ${job.state} ${job.startedAt}${job.error ? ` — ${job.error}` : ''}${job.message ? ` — ${job.message}` : ''}`);
      console.log(`${status.recoveryPoints.length} recovery points${status.recoveryPoints[0] ? `, latest ${status.recoveryPoints[0].time}` : ''}`);
    });

  agent
    .command('estimate')
    .description('ship or upload? the first backup\'s size from a sample of the data, and its time over the link against on drives')
    .argument('[path...]', 'what would be protected (default: the protected paths)')
    .requiredOption('--bandwidth <speed>', 'the link\'s upload speed, e.g. 20Mbit, 1Gbit or 2.5MB/s')
    .option('-e, --exclude <glob>', 'leave out matching paths (repeatable)', collect)
    .option('--shipping-days <days>', 'door to door: courier, receipt and import at the data centre', '7')
    .option('--drive-rate <rate>', 'how fast a drive is written and read', '150MB/s')
    .option('--sample <size>', 'how much of the data to read for the sample', '512MiB')
    .option('--json', 'print as JSON')
    .action(async (paths: string[], flags: { bandwidth: string; exclude?: string[]; shippingDays: string; driveRate: string; sample: string; json?: boolean }) => {
      const policy = paths.length === 0 ? (await loadAgentConfig()).policy : undefined;
      const targets = paths.length > 0 ? paths : (policy?.paths ?? []);
      if (targets.length === 0) throw new DriveseedError('USAGE', 'no paths to estimate', { hint: 'name them, or protect them first with `agent protect`' });
      const shippingDays = Number(flags.shippingDays);
      if (!(shippingDays >= 0)) throw new DriveseedError('USAGE', `--shipping-days must be a number of days, not "${flags.shippingDays}"`);
      const estimate = await estimateSeed({
        paths: targets, excludes: flags.exclude ?? policy?.excludes ?? [], bandwidth: parseLinkSpeed(flags.bandwidth),
        shippingDays, driveRate: parseRate(flags.driveRate), sampleBytes: parseSize(flags.sample),
      });
      if (flags.json) return printJson(estimate);
      printEstimate(estimate, flags.bandwidth);
    });

  agent
    .command('restore')
    .description('restore a recovery point from the vault')
    .argument('[recovery-point]', 'recovery point id (or a unique prefix), or "latest"', 'latest')
    .requiredOption('-t, --target <dir>', 'directory to restore into')
    .option('-i, --include <glob>', 'restore only matching paths (repeatable)', collect)
    .option('--verify', "also recompute every data blob's id from its restored content (slower; decryption is authenticated either way)")
    .option('--password-file <file>', 'repository password file (env DRIVESEED_PASSWORD)')
    .action(async (ref: string, flags: { target: string; include?: string[]; verify?: boolean; passwordFile?: string }) => {
      const session = await openVaultSession();
      const repo = await Repository.open(session.store, await agentPassword(flags));
      await repo.loadIndex();
      const snapshot = findSnapshot(await repo.listSnapshots(), ref);
      const progress = new ProgressLine();
      const result = await restore(repo, snapshot, {
        target: resolve(flags.target),
        includes: flags.include,
        verify: flags.verify,
        onProgress: (p) => progress.update((t) => renderTransfer(t, p.files, p.bytes, snapshot.summary?.totalBytes)),
        onWarning: (path, message) => process.stderr.write(`warning: ${path}: ${message}\n`),
      });
      progress.done();
      console.log(`restored ${result.files} files (${formatBytes(result.bytes)}) from recovery point ${snapshot.id.slice(0, 8)}`);
      if (result.warnings.length > 0) process.exitCode = 1;
    });

  agent
    .command('run')
    .description('run scheduled backups in the foreground until Ctrl-C')
    .option('--password-file <file>', 'repository password file (env DRIVESEED_PASSWORD)')
    .action(async (flags: { passwordFile?: string }) => {
      const config = await loadAgentConfig();
      const schedule = config.policy?.schedule;
      if (!schedule) throw new DriveseedError('USAGE', 'no schedule set', { hint: 'run `driveseed agent protect PATH… --schedule CRON`' });
      const password = await agentPassword(flags);
      const { Cron } = await import('croner');
      // protect: a run that is still going when the next is due is not started twice.
      const job = new Cron(schedule, { protect: true }, async () => {
        const started = new Date().toISOString();
        try {
          const result = await backupNow(password);
          console.log(`${started} ${describeJob(result.job)}`);
        } catch (e) {
          console.error(`${started} backup failed: ${(e as Error).message}`);
        }
      });
      console.log(`scheduler running ("${schedule}"); next backup at ${job.nextRun()?.toISOString()}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      job.stop();
    });

  return agent;
}

interface ProtectFlags {
  schedule?: string;
  exclude?: string[];
  limitUpload?: string;
  offline?: boolean;
  staging?: string;
  job?: string;
  storageAccount?: string;
  container?: string;
  healLimit?: string;
}

function printEstimate(e: SeedEstimate, bandwidth: string): void {
  const days = (seconds: number) =>
    seconds < 3600 ? `${Math.max(1, Math.round(seconds / 60))} minutes` : seconds < 86_400 ? `${(seconds / 3600).toFixed(1)} hours` : `${(seconds / 86_400).toFixed(1)} days`;
  console.log(`data: ${e.files} files, ${formatBytes(e.bytes)}`);
  console.log(`sample: ${formatBytes(e.sample.bytes)} from ${e.sample.files} places, stored as ${(e.ratio * 100).toFixed(0)}% (compressed and deduplicated)`);
  console.log(`first backup: about ${formatBytes(e.firstBackupBytes)}`);
  console.log(`  over the network at ${bandwidth}: ${days(e.upload.seconds)}`);
  console.log(`  on ${e.ship.drives} drive${e.ship.drives > 1 ? 's' : ''}: ${days(e.ship.seconds)}`);
  console.log(e.advice === 'ship'
    ? 'advice: ship the first backup on drives (agent protect … --offline --staging DIR --job NAME --storage-account A --container C)'
    : 'advice: upload it; drives would not be faster (agent protect …, then agent backup-now)');
}

function offlinePolicyOf(flags: ProtectFlags): OfflinePolicy {
  const missing = (['staging', 'job', 'storageAccount', 'container'] as const).filter((k) => !flags[k]);
  if (missing.length > 0) throw new DriveseedError('USAGE', `--offline needs ${missing.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`);
  assertJobName(flags.job!);
  return {
    staging: resolve(flags.staging!), jobName: flags.job!, storageAccount: flags.storageAccount!, container: flags.container!,
    ...(flags.healLimit ? { healLimit: parseSize(flags.healLimit) } : {}),
  };
}

function describeJob(job: BackupJob): string {
  const counts = `${job.filesNew} new, ${job.filesChanged} changed, ${job.filesUnchanged} unchanged files`;
  if (job.state === 'Waiting') return `${job.kind} job ${job.id.slice(0, 8)} Waiting: ${job.message ?? ''}`;
  if (job.state === 'Failed') return `${job.kind} job ${job.id.slice(0, 8)} Failed: ${job.error ?? ''}`;
  return `${job.kind} job ${job.id.slice(0, 8)} ${job.state}: ${counts}; sent ${formatBytes(job.bytesSent)}${job.snapshotId ? `; recovery point ${job.snapshotId.slice(0, 8)}` : ''}`;
}

function printBackupOutcome(result: BackupNowResult): void {
  for (const w of result.warnings) process.stderr.write(`warning: ${w.path}: ${w.message}\n`);
  if (result.seed) {
    const { copy, healed } = result.seed;
    console.log(`seed completed from import job ${copy.importJob}: ${copy.copied} files (${formatBytes(copy.bytesCopied)}) copied inside the service, ${copy.skipped} already there` +
      `${healed.files > 0 ? `; ${healed.files} missing or damaged files (${formatBytes(healed.bytes)}) sent over the network` : ''}`);
    console.log(describeJob(result.seed.job));
  }
  console.log(describeJob(result.job));
}

async function validateCron(expression: string): Promise<void> {
  const { Cron } = await import('croner');
  try {
    new Cron(expression, { paused: true }).stop();
  } catch (e) {
    throw new DriveseedError('USAGE', `not a cron expression: "${expression}" (${(e as Error).message})`);
  }
}

/** The application this agent signs in as: the one certgen made here, or a new one with a new certificate. */
async function agentApplication(owner: ServiceClient, subscriptionId: string, serverName: string): Promise<string> {
  const config = await loadAgentConfig();
  const known = Object.values(config.storageAccounts).find((p) => p.subscriptionId === subscriptionId)?.applicationId ?? config.registration?.applicationId;
  if (known && config.applicationCertThumbprints[known]) return known;
  const name = `DriveseedAgent_${serverName}`.replace(/[^A-Za-z0-9_.@-]/g, '-');
  const existing = await owner.findApplication(subscriptionId, name);
  if (existing) {
    throw new DriveseedError('CONFLICT', `application ${name} exists already (id ${existing.id}) but this machine has no certificate for it`, {
      hint: `export-cert --new, upload-cert --app ${existing.id}, then set-thumbprint, and register again`,
    });
  }
  const cert = await (await import('../core/certificates/certificate-factory.js')).createSelfSignedCertificate(name, 730);
  await storeCertificate(cert);
  const app = await owner.createApplication(subscriptionId, { name, certificate: cert.certificatePem });
  await updateAgentConfig((c) => {
    c.applicationCertThumbprints[app.id] = cert.thumbprint;
  });
  return app.id;
}
