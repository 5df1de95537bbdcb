import { Command, InvalidArgumentError } from 'commander';
import { DriveseedError } from '../core/errors.js';
import { parseSize } from '../core/util/units.js';
import { parseListen, startService } from '../service/start-service.js';
import { DEFAULT_JOB_TIMEOUT_SECONDS } from '../service/vault/job-liveness.js';
import { parsePublicUrl } from '../service/http/token-audience.js';
import { untilInterrupted } from './common.js';
import { parseSmtpUrl } from '../service/alerts/email-sender.js';
import { DEFAULT_ALERT_INTERVAL_SECONDS } from '../service/alerts/alert-sweeper.js';

interface StartFlags {
  dataDir: string;
  listen: string;
  db?: string;
  blob?: string;
  shippingAddress?: string;
  log?: boolean;
  importWorker: boolean;
  grantLifetime: number;
  uploadMemory?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: string;
  jobTimeout: number;
  publicUrl?: string;
  smtp?: string;
  smtpFrom?: string;
  allowPrivateWebhooks?: boolean;
  alertInterval: number;
  missedBackupGrace: number;
}

/** Whole seconds or minutes, 0 or more. */
function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('give a whole number, 0 or more');
  return n;
}

function smtpUrl(value: string): string {
  parseSmtpUrl(value);
  return value;
}

/** Minutes, not hours: a leaked URL should soon be worthless; long enough for a pack on a slow link. */
function parseGrantLifetime(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 60 || seconds > 3600) throw new InvalidArgumentError('give whole seconds from 60 to 3600');
  return seconds;
}

/** Whole seconds, at least 1: agents send a heartbeat every 30 s, so a timeout under a minute suits tests only. */
function parseJobTimeout(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1) throw new InvalidArgumentError('give whole seconds, 1 or more');
  return seconds;
}

/** Checked while parsing, so a bad address is a usage error in one line rather than a failed start. */
function listenAddress(value: string): string {
  try {
    parseListen(value);
  } catch {
    throw new DriveseedError('USAGE', `not a HOST:PORT: ${value}`);
  }
  return value;
}

/** Checked while parsing, like --listen: a bad address is a usage error before anything is created. */
function publicUrl(value: string): string {
  parsePublicUrl(value);
  return value;
}

export default function serviceStartCommand(): Command {
  return new Command('start')
    .description('run the service in the foreground until Ctrl-C')
    .option('--data-dir <dir>', 'where the database and blobs live', './driveseed-data')
    .option('--listen <host:port>', 'address to listen on', listenAddress, '127.0.0.1:7070')
    .option('--db <url>', 'postgres://… for PostgreSQL (default: SQLite in the data dir)')
    .option('--blob <url>', 'blob storage: a directory, or azure:CONTAINER with AZURE_STORAGE_CONNECTION_STRING (default: DATA/blobs)')
    .option('--shipping-address <text>', "the data centre's address for drives, shown to customers")
    .option('--log', 'structured request logs on stdout')
    .option('--no-import-worker', 'do not import queued drives in this instance')
    .option('--grant-lifetime <seconds>', 'lifetime of the signed URLs agents get for their packs (Azure blob storage)', parseGrantLifetime, 600)
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM, chain first); needs --tls-key')
    .option('--tls-key <file>', "the TLS certificate's private key (PEM)")
    .option('--trust-proxy <addresses>', 'believe X-Forwarded-Proto/-Host from these TLS-terminating proxies (IPs or CIDRs, comma-separated)')
    .option('--public-url <url>', 'the address agents reach the service at (https://backup.example.com); tokens are for it alone', publicUrl)
    .option('--upload-memory <size>', 'upload bodies held in memory at once, over all clients; more uploads wait for room (default 256MiB)')
    .option(
      '--job-timeout <seconds>',
      'close a running backup job as Failed when its agent has shown no sign of life for this long',
      parseJobTimeout,
      DEFAULT_JOB_TIMEOUT_SECONDS,
    )
    .option(
      '--smtp <url>',
      'mail alerts through this SMTP server: smtp://HOST:PORT or smtps://HOST:PORT (login from env DRIVESEED_SMTP_USER, DRIVESEED_SMTP_PASSWORD)',
      smtpUrl,
    )
    .option('--smtp-from <address>', 'the From address of alert mail (default driveseed@HOSTNAME)')
    .option('--allow-private-webhooks', "let tenants' webhooks reach loopback, private and link-local addresses (in-house receivers)")
    .option('--alert-interval <seconds>', 'how often alerts are looked for and sent (0: never)', wholeNumber, DEFAULT_ALERT_INTERVAL_SECONDS)
    .option('--missed-backup-grace <minutes>', 'how late a scheduled backup may start before it is alerted as missed', wholeNumber, 60)
    .action(async (flags: StartFlags) => {
      const running = await startService({
        dataDir: flags.dataDir,
        listen: flags.listen,
        db: flags.db,
        blob: flags.blob,
        shippingAddress: flags.shippingAddress,
        logger: flags.log,
        importWorker: flags.importWorker,
        blobGrantSeconds: flags.grantLifetime,
        uploadMemoryBytes: flags.uploadMemory ? parseSize(flags.uploadMemory) : undefined,
        tlsCertFile: flags.tlsCert,
        tlsKeyFile: flags.tlsKey,
        trustProxy: flags.trustProxy,
        jobTimeoutSeconds: flags.jobTimeout,
        publicUrl: flags.publicUrl,
        ...(flags.smtp
          ? {
              smtp: {
                url: flags.smtp,
                from: flags.smtpFrom,
                user: process.env.DRIVESEED_SMTP_USER || undefined,
                password: process.env.DRIVESEED_SMTP_PASSWORD || undefined,
              },
            }
          : {}),
        allowPrivateWebhooks: flags.allowPrivateWebhooks,
        alertIntervalSeconds: flags.alertInterval,
        missedBackupGraceMs: flags.missedBackupGrace * 60_000,
      });
      // With --log, stdout is the JSON log stream, which gets collected and shipped: no key goes
      // into it. The people starting the service read stderr; keys show there only on a terminal.
      const say = flags.log ? (line: string) => console.error(line) : (line: string) => console.log(line);
      const showKeys = !flags.log || process.stderr.isTTY === true;
      const bootstrapFile = `${flags.dataDir}/bootstrap.json`;
      if (running.bootstrap) {
        say(`created subscription ${running.bootstrap.subscriptionId}`);
        if (showKeys) say(`owner key: ${running.bootstrap.ownerKey}`);
        say(`(${showKeys ? 'also ' : 'the owner key is '}in ${bootstrapFile}, mode 0600; keep it secret)`);
      }
      if (running.operatorKey)
        say(`operator key (data centre console): ${showKeys ? `${running.operatorKey} (in bootstrap.json too)` : `in ${bootstrapFile}`}`);
      say(`web console: ${running.url}/ (sign in with the owner key)`);
      say(`driveseed service listening on ${running.url} (database: ${running.database.kind})`);
      // Graceful: stop taking requests, finish the running ones, close the database.
      await untilInterrupted();
      await running.stop();
      say('driveseed service stopped');
    });
}
