import { resolve } from 'node:path';
import type { Server } from '../../api/schemas.js';
import { ServiceClient } from '../../api/service-client.js';
import { DriveseedError } from '../../core/errors.js';
import { readPublishSettings } from '../common/publish-settings.js';
import { loadAgentConfig, updateAgentConfig } from './agent-config.js';
import { createCertifiedApplication } from './application-certificates.js';

/** How long the certificate of an application made by registration is valid: two years. */
const AGENT_CERTIFICATE_DAYS = 730;

export interface Registering {
  publishSettings: string;
  vault: string;
  serverName: string;
  /** Remembered (as an absolute path) for scheduled backups. */
  passwordFile?: string;
}

/**
 * `agent register`: this server joins a vault (made if absent) under its own application
 * and certificate, and the agent's config records the registration.
 */
export async function registerAgent(flags: Registering): Promise<Server> {
  const settings = await readPublishSettings(flags.publishSettings);
  const owner = new ServiceClient(settings.serviceUrl, { ownerKey: settings.ownerKey });
  const vault = { subscriptionId: settings.subscriptionId, vaultName: flags.vault };
  await owner.request('ensureVault', { params: vault });
  const applicationId = await agentApplication(owner, settings.subscriptionId, flags.serverName);
  const server = await owner.request('registerServer', { params: vault, body: { name: flags.serverName, applicationId } });
  await updateAgentConfig((c) => {
    c.registration = {
      serviceUrl: settings.serviceUrl,
      subscriptionId: settings.subscriptionId,
      vault: flags.vault,
      serverId: server.id,
      serverName: server.name,
      applicationId,
    };
    if (flags.passwordFile) c.passwordFile = resolve(flags.passwordFile);
  });
  return server;
}

/** The application this agent signs in as: the one certgen made here, or a new one with a new certificate. */
async function agentApplication(owner: ServiceClient, subscriptionId: string, serverName: string): Promise<string> {
  const config = await loadAgentConfig();
  const known = Object.values(config.storageAccounts).find((p) => p.subscriptionId === subscriptionId)?.applicationId ?? config.registration?.applicationId;
  if (known && config.applicationCertThumbprints[known]) return known;
  const name = `DriveseedAgent_${serverName}`.replace(/[^A-Za-z0-9_.@-]/g, '-');
  const existing = await owner.findApplication(subscriptionId, name);
  // The manual path (export-cert, upload-cert, set-thumbprint) records the thumbprint for the
  // existing application: that is this machine's certificate for it.
  if (existing && config.applicationCertThumbprints[existing.id]) return existing.id;
  if (existing) {
    throw new DriveseedError('CONFLICT', `application ${name} exists already (id ${existing.id}) but this machine has no certificate for it`, {
      hint: `a lost server's? take it over with \`agent register --recover ${serverName}\`; else export-cert --new, upload-cert --app ${existing.id}, then set-thumbprint, and register again`,
    });
  }
  return (await createCertifiedApplication(owner, subscriptionId, name, AGENT_CERTIFICATE_DAYS)).app.id;
}
