/*
 * The identity the agent signs in with (the seed's CertGen): applications in the
 * subscription, each with an X.509 certificate whose private key never leaves this machine,
 * and the agent's record of which certificate each application and storage account uses.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Application, Certificate } from '../../api/schemas.js';
import { ServiceClient } from '../../api/service-client.js';
import { thumbprintOf, type CertificateWithKey } from '../../core/certificates/certificates.js';
import { DriveseedError } from '../../core/errors.js';
import { currentUsername } from '../../core/util/current-user.js';
import { readPublishSettings } from '../common/publish-settings.js';
import { loadAgentConfig, loadCertificate, storeCertificate, updateAgentConfig, type OfflineApplicationParams } from './agent-config.js';

/** The seed names the application AzureOfflineBackup_<user>; ours says whose machine it is too. */
export function defaultAppName(): string {
  const user = currentUsername() || 'user';
  return `DriveseedOfflineBackup_${user}@${hostname()}`.replace(/[^A-Za-z0-9_.@-]/g, '-');
}

/**
 * A new certificate, kept with its private key (mode 0600) in the agent's home. The
 * certificate factory is loaded only here: its X.509 library costs more start-up time than
 * the commands that only read certificates need.
 */
async function newCertificate(name: string, validDays: number): Promise<CertificateWithKey> {
  const cert = await (await import('../../core/certificates/certificate-factory.js')).createSelfSignedCertificate(name, validDays);
  await storeCertificate(cert);
  return cert;
}

/** A new application that signs in with a new certificate of this machine, recorded as the one it uses. */
export async function createCertifiedApplication(
  owner: ServiceClient,
  subscriptionId: string,
  name: string,
  validDays: number,
): Promise<{ app: Application; thumbprint: string }> {
  const cert = await newCertificate(name, validDays);
  const app = await owner.createApplication(subscriptionId, { name, certificate: cert.certificatePem });
  await updateAgentConfig((c) => {
    c.applicationCertThumbprints[app.id] = cert.thumbprint;
  });
  return { app, thumbprint: cert.thumbprint };
}

/**
 * A new certificate of this machine added to an existing application and recorded as the one
 * it uses: how a replacement machine signs in as a lost server's application.
 */
export async function addMachineCertificate(
  owner: ServiceClient,
  subscriptionId: string,
  applicationId: string,
  name: string,
  validDays: number,
): Promise<string> {
  const cert = await newCertificate(name, validDays);
  await owner.uploadCertificate(subscriptionId, applicationId, { certificate: cert.certificatePem });
  await updateAgentConfig((c) => {
    c.applicationCertThumbprints[applicationId] = cert.thumbprint;
  });
  return cert.thumbprint;
}

/** `certgen create-app`: the offline-backup application, its parameters written to `out` for add-registry. */
export async function createOfflineApplication(options: {
  publishSettings: string;
  name: string;
  validDays: number;
  out: string;
}): Promise<OfflineApplicationParams> {
  const settings = await readPublishSettings(options.publishSettings);
  const client = new ServiceClient(settings.serviceUrl, { ownerKey: settings.ownerKey });
  const existing = await client.findApplication(settings.subscriptionId, options.name);
  if (existing) {
    throw new DriveseedError('CONFLICT', `application ${options.name} exists already (id ${existing.id}); its certificate cannot be made again`, {
      hint: `export this machine's certificate with \`driveseed certgen export-cert\`, upload it with \`certgen upload-cert --app ${existing.id}\`, then \`certgen set-thumbprint --app ${existing.id} --thumbprint …\``,
    });
  }
  const { app, thumbprint } = await createCertifiedApplication(client, settings.subscriptionId, options.name, options.validDays);
  const params: OfflineApplicationParams = {
    version: 1,
    serviceUrl: settings.serviceUrl,
    subscriptionId: settings.subscriptionId,
    applicationId: app.id,
    applicationName: app.name,
    certificateThumbprint: thumbprint,
  };
  await writeFile(options.out, JSON.stringify(params, null, 2) + '\n');
  return params;
}

/** `certgen add-registry`: a storage account's imports sign in with the application of `paramsFile`. */
export async function addStorageAccountParams(options: {
  publishSettings: string;
  paramsFile: string;
  storageAccount: string;
}): Promise<OfflineApplicationParams> {
  const settings = await readPublishSettings(options.publishSettings);
  const params = JSON.parse(await readFile(options.paramsFile, 'utf8')) as OfflineApplicationParams;
  if (params.version !== 1 || !params.applicationId) throw new DriveseedError('USAGE', `${options.paramsFile} is not an application parameters file`);
  if (params.subscriptionId !== settings.subscriptionId) {
    throw new DriveseedError(
      'USAGE',
      `${options.paramsFile} belongs to subscription ${params.subscriptionId}, the publish settings to ${settings.subscriptionId}`,
    );
  }
  await loadCertificate(params.certificateThumbprint);
  await updateAgentConfig((c) => {
    c.storageAccounts[options.storageAccount] = params;
    c.applicationCertThumbprints[params.applicationId] ??= params.certificateThumbprint;
  });
  return params;
}

/**
 * `certgen export-cert`: the public part of an application's certificate (or, with `fresh`,
 * of a new one for an application made elsewhere), written to `out`. Returns its thumbprint.
 */
export async function exportCertificate(options: { app?: string; fresh?: boolean; validDays: number; out: string }): Promise<string> {
  const cert = options.fresh ? await newCertificate(defaultAppName(), options.validDays) : await loadCertificate(await thumbprintFor(options.app));
  await writeFile(options.out, cert.certificatePem);
  return cert.thumbprint;
}

/** `certgen upload-cert`: adds the certificate in `certFile` to an existing application (the manual path). */
export async function uploadCertificate(options: { publishSettings: string; app: string; certFile: string }): Promise<Certificate> {
  const settings = await readPublishSettings(options.publishSettings);
  const pem = await readFile(options.certFile, 'utf8');
  const client = new ServiceClient(settings.serviceUrl, { ownerKey: settings.ownerKey });
  return client.uploadCertificate(settings.subscriptionId, options.app, { certificate: pem });
}

/** `certgen set-thumbprint`: the application (and its storage accounts) sign in with this machine's certificate `thumbprint`. */
export async function useCertificate(app: string, thumbprint: string): Promise<string> {
  const normalized = thumbprint.toLowerCase().replaceAll(':', '');
  const cert = await loadCertificate(normalized);
  if (thumbprintOf(cert.certificatePem) !== normalized) throw new DriveseedError('CORRUPT', `the stored certificate does not match thumbprint ${normalized}`);
  await updateAgentConfig((c) => {
    c.applicationCertThumbprints[app] = normalized;
    for (const params of Object.values(c.storageAccounts)) if (params.applicationId === app) params.certificateThumbprint = normalized;
  });
  return normalized;
}

async function thumbprintFor(app: string | undefined): Promise<string> {
  const config = await loadAgentConfig();
  const entries = Object.entries(config.applicationCertThumbprints);
  const match = app ? entries.find(([id]) => id === app) : entries.length === 1 ? entries[0] : undefined;
  if (!match) {
    throw new DriveseedError(
      'USAGE',
      app ? `no certificate recorded for application ${app}` : `${entries.length} applications are recorded; name one with --app`,
      {
        hint: 'or make a new certificate with --new',
      },
    );
  }
  return match[1];
}
