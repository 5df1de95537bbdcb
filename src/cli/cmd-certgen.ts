import { Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { currentUsername } from '../core/util/current-user.js';
import { loadAgentConfig, loadCertificate, storeCertificate, updateAgentConfig, type OfflineApplicationParams } from '../client/agent/agent-config.js';
import { thumbprintOf } from '../core/certificates/certificates.js';
import { readPublishSettings } from '../client/common/publish-settings.js';
import { ServiceClient } from '../api/service-client.js';
import { DriveseedError } from '../core/errors.js';
import { positiveInt, printJson } from './common.js';

/** The seed names the application AzureOfflineBackup_<user>; ours says whose machine it is too. */
function defaultAppName(): string {
  const user = currentUsername() || 'user';
  return `DriveseedOfflineBackup_${user}@${hostname()}`.replace(/[^A-Za-z0-9_.@-]/g, '-');
}

export function certgenCommand(): Command {
  const certgen = new Command('certgen').description('identity for offline backup: applications with X.509 certificates (the seed\'s CertGen)');

  certgen
    .command('create-app')
    .description('create the offline-backup application with a new certificate and write its parameters')
    .requiredOption('--publish-settings <file>', 'publish-settings file')
    .option('--name <name>', 'application name', defaultAppName())
    .option('--valid-days <n>', 'certificate validity', positiveInt, 730)
    .option('--out <file>', 'application parameters file', 'offline-app.json')
    .option('--json', 'print the parameters as JSON')
    .action(async (flags: { publishSettings: string; name: string; validDays: number; out: string; json?: boolean }) => {
      const settings = await readPublishSettings(flags.publishSettings);
      const client = new ServiceClient(settings.serviceUrl, { ownerKey: settings.ownerKey });
      const existing = await client.findApplication(settings.subscriptionId, flags.name);
      if (existing) {
        throw new DriveseedError('CONFLICT', `application ${flags.name} exists already (id ${existing.id}); its certificate cannot be made again`, {
          hint: `export this machine's certificate with \`driveseed certgen export-cert\`, upload it with \`certgen upload-cert --app ${existing.id}\`, then \`certgen set-thumbprint --app ${existing.id} --thumbprint …\``,
        });
      }
      const cert = await (await import('../core/certificates/certificate-factory.js')).createSelfSignedCertificate(flags.name, flags.validDays);
      await storeCertificate(cert);
      const app = await client.createApplication(settings.subscriptionId, { name: flags.name, certificate: cert.certificatePem });
      const params: OfflineApplicationParams = {
        version: 1,
        serviceUrl: settings.serviceUrl,
        subscriptionId: settings.subscriptionId,
        applicationId: app.id,
        applicationName: app.name,
        certificateThumbprint: cert.thumbprint,
      };
      await updateAgentConfig((c) => {
        c.applicationCertThumbprints[app.id] = cert.thumbprint;
      });
      await writeFile(flags.out, JSON.stringify(params, null, 2) + '\n');
      if (flags.json) printJson(params);
      else console.log(`created application ${app.name} (${app.id}) with certificate ${cert.thumbprint}; parameters in ${flags.out}`);
    });

  certgen
    .command('add-registry')
    .description('record the application parameters for a storage account in the agent\'s configuration')
    .requiredOption('--publish-settings <file>', 'publish-settings file')
    .requiredOption('--params <file>', 'application parameters from create-app')
    .requiredOption('--storage-account <name>', 'storage account these parameters are for')
    .action(async (flags: { publishSettings: string; params: string; storageAccount: string }) => {
      const settings = await readPublishSettings(flags.publishSettings);
      const params = JSON.parse(await readFile(flags.params, 'utf8')) as OfflineApplicationParams;
      if (params.version !== 1 || !params.applicationId) throw new DriveseedError('USAGE', `${flags.params} is not an application parameters file`);
      if (params.subscriptionId !== settings.subscriptionId) {
        throw new DriveseedError('USAGE', `${flags.params} belongs to subscription ${params.subscriptionId}, the publish settings to ${settings.subscriptionId}`);
      }
      await loadCertificate(params.certificateThumbprint);
      await updateAgentConfig((c) => {
        c.storageAccounts[flags.storageAccount] = params;
        c.applicationCertThumbprints[params.applicationId] ??= params.certificateThumbprint;
      });
      console.log(`storage account ${flags.storageAccount} now uses application ${params.applicationName} (${params.applicationId})`);
    });

  certgen
    .command('export-cert')
    .description('write this machine\'s certificate (public part only) for upload to an existing application')
    .option('--app <id>', 'the application whose certificate to export (default: the only one)')
    .option('--new', 'make a new certificate (for an application created elsewhere)')
    .option('--valid-days <n>', 'validity of a new certificate', positiveInt, 730)
    .option('--out <file>', 'where to write it', 'driveseed-offline.cer')
    .action(async (flags: { app?: string; new?: boolean; validDays: number; out: string }) => {
      const cert = flags.new ? await (await import('../core/certificates/certificate-factory.js')).createSelfSignedCertificate(defaultAppName(), flags.validDays) : await loadCertificate(await thumbprintFor(flags.app));
      if (flags.new) await storeCertificate(cert);
      await writeFile(flags.out, cert.certificatePem);
      console.log(`wrote certificate ${cert.thumbprint} (no private key) to ${flags.out}`);
    });

  certgen
    .command('upload-cert')
    .description('add a certificate to an existing application (the manual path)')
    .requiredOption('--publish-settings <file>', 'publish-settings file')
    .requiredOption('--app <id>', 'application id')
    .requiredOption('--cert <file>', 'certificate file (.cer, PEM, public part)')
    .action(async (flags: { publishSettings: string; app: string; cert: string }) => {
      const settings = await readPublishSettings(flags.publishSettings);
      const pem = await readFile(flags.cert, 'utf8');
      const client = new ServiceClient(settings.serviceUrl, { ownerKey: settings.ownerKey });
      const uploaded = await client.uploadCertificate(settings.subscriptionId, flags.app, { certificate: pem });
      console.log(`uploaded certificate ${uploaded.thumbprint} to application ${flags.app} (valid until ${uploaded.notAfter})`);
    });

  certgen
    .command('set-thumbprint')
    .description('record which certificate the agent uses for an application')
    .requiredOption('--app <id>', 'application id')
    .requiredOption('--thumbprint <hex>', 'certificate thumbprint (SHA-256, hex)')
    .action(async (flags: { app: string; thumbprint: string }) => {
      const thumbprint = flags.thumbprint.toLowerCase().replaceAll(':', '');
      const cert = await loadCertificate(thumbprint);
      if (thumbprintOf(cert.certificatePem) !== thumbprint) throw new DriveseedError('CORRUPT', `the stored certificate does not match thumbprint ${thumbprint}`);
      await updateAgentConfig((c) => {
        c.applicationCertThumbprints[flags.app] = thumbprint;
        for (const params of Object.values(c.storageAccounts)) if (params.applicationId === flags.app) params.certificateThumbprint = thumbprint;
      });
      console.log(`application ${flags.app} now uses certificate ${thumbprint}`);
    });

  return certgen;
}

async function thumbprintFor(app: string | undefined): Promise<string> {
  const config = await loadAgentConfig();
  const entries = Object.entries(config.applicationCertThumbprints);
  const match = app ? entries.find(([id]) => id === app) : entries.length === 1 ? entries[0] : undefined;
  if (!match) {
    throw new DriveseedError('USAGE', app ? `no certificate recorded for application ${app}` : `${entries.length} applications are recorded; name one with --app`, {
      hint: 'or make a new certificate with --new',
    });
  }
  return match[1];
}
