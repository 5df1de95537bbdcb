import { Command, InvalidArgumentError } from 'commander';
import { ServiceClient } from '../api/service-client.js';
import { writePublishSettings } from '../client/common/publish-settings.js';
import { printJson } from './common.js';
import { parseSize } from '../core/util/units.js';

/** Minutes, not hours: a leaked URL should soon be worthless; long enough for a pack on a slow link. */
function parseGrantLifetime(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 60 || seconds > 3600) throw new InvalidArgumentError('give whole seconds from 60 to 3600');
  return seconds;
}

export function serviceCommand(): Command {
  const service = new Command('service').description('the cloud side: identity, vault and import service in one HTTP server');

  service
    .command('start')
    .description('run the service in the foreground until Ctrl-C')
    .option('--data-dir <dir>', 'where the database and blobs live', './driveseed-data')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:7070')
    .option('--db <url>', 'postgres://… for PostgreSQL (default: SQLite in the data dir)')
    .option('--blob <url>', 'blob storage: a directory, or azure:CONTAINER with AZURE_STORAGE_CONNECTION_STRING (default: DATA/blobs)')
    .option('--shipping-address <text>', 'the data centre\'s address for drives, shown to customers')
    .option('--log', 'structured request logs on stdout')
    .option('--no-import-worker', 'do not import queued drives in this instance')
    .option('--grant-lifetime <seconds>', 'lifetime of the signed URLs agents get for their packs (Azure blob storage)', parseGrantLifetime, 600)
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM, chain first); needs --tls-key')
    .option('--tls-key <file>', "the TLS certificate's private key (PEM)")
    .option('--trust-proxy <addresses>', 'believe X-Forwarded-Proto/-Host from these TLS-terminating proxies (IPs or CIDRs, comma-separated)')
    .option('--upload-memory <size>', 'upload bodies held in memory at once, over all clients; more uploads wait for room (default 256MiB)')
    .action(async (flags: { dataDir: string; listen: string; db?: string; blob?: string; shippingAddress?: string; log?: boolean; importWorker: boolean; grantLifetime: number; uploadMemory?: string; tlsCert?: string; tlsKey?: string; trustProxy?: string }) => {
      const { startService } = await import('../service/start-service.js');
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
      });
      if (running.bootstrap) {
        console.log(`created subscription ${running.bootstrap.subscriptionId}`);
        console.log(`owner key: ${running.bootstrap.ownerKey}`);
        console.log(`(also in ${flags.dataDir}/bootstrap.json, mode 0600; keep it secret)`);
      }
      if (running.operatorKey) console.log(`operator key (data centre console): ${running.operatorKey} (in bootstrap.json too)`);
      console.log(`web console: ${running.url}/ (sign in with the owner key)`);
      console.log(`driveseed service listening on ${running.url} (database: ${running.database.kind})`);
      // Graceful: stop taking requests, finish the running ones, close the database.
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await running.stop();
      console.log('driveseed service stopped');
    });

  service
    .command('publish-settings')
    .description('write the publish-settings file the other tools take with --publish-settings')
    .requiredOption('--service <url>', 'service URL, e.g. http://127.0.0.1:7070')
    .requiredOption('--subscription <id>', 'subscription id')
    .option('--owner-key <key>', 'owner key (or env DRIVESEED_OWNER_KEY)')
    .requiredOption('--out <file>', 'file to write (mode 0600)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { service: string; subscription: string; ownerKey?: string; out: string; json?: boolean }) => {
      const ownerKey = flags.ownerKey ?? process.env.DRIVESEED_OWNER_KEY ?? '';
      const serviceUrl = flags.service.replace(/\/+$/, '');
      // Checked against the service first, so a typo does not end up in a file.
      await new ServiceClient(serviceUrl, { ownerKey }).whoami(flags.subscription);
      await writePublishSettings(flags.out, { serviceUrl, subscriptionId: flags.subscription, ownerKey });
      if (flags.json) printJson({ out: flags.out, serviceUrl, subscriptionId: flags.subscription });
      else console.log(`wrote publish settings for subscription ${flags.subscription} to ${flags.out}`);
    });

  return service;
}
