import { resolve } from 'node:path';
import type { Server } from '../../api/schemas.js';
import { ServiceClient } from '../../api/service-client.js';
import { DriveseedError } from '../../core/errors.js';
import { CONFIG_FILE } from '../../core/repo/layout.js';
import { Repository } from '../../core/repo/repository.js';
import { readPublishSettings } from '../common/publish-settings.js';
import { loadAgentConfig, saveAgentConfig, updateAgentConfig, type Policy } from './agent-config.js';
import { readPolicyDocument } from './policy-document.js';
import { addMachineCertificate } from './application-certificates.js';
import { findServer } from './restore.js';
import { openVaultSession } from './vault-session.js';

/** As long as the certificate of a registration: two years. */
const AGENT_CERTIFICATE_DAYS = 730;

export interface Recovering {
  publishSettings: string;
  vault: string;
  /** The lost server's name in the vault. */
  serverName: string;
  /** The repository password: checked against the vault before the old machine is locked out. */
  password: string;
  passwordFile?: string;
}

export interface Recovered {
  server: Server;
  /** This machine's certificate, now the application's only one. */
  thumbprint: string;
  /** The lost machine's certificates, revoked: they get no token any more. */
  revoked: string[];
  /** Whether the repository password was checked (a server that never backed up has no repository). */
  passwordChecked: boolean;
  /** The policy taken over from the vault (none for a server never protected). */
  policy?: Policy;
}

/**
 * `agent register --recover NAME`: a new machine takes over a lost server (MARS's "recover
 * to an alternate server", then carry on). It signs in as the server's application with a
 * certificate of its own, proves it holds the repository password, and only then revokes the
 * old machine's certificates, so a mistake (a wrong password, a typo in the name) locks nobody
 * out and changes nothing. The vault's policy document is taken over too: excludes, upload
 * limit, hooks, items, retention and offline seeding as the lost machine had them.
 */
export async function recoverServer(request: Recovering): Promise<Recovered> {
  const before = await loadAgentConfig();
  if (before.registration)
    throw new DriveseedError(
      'CONFLICT',
      `this agent is registered already, as server ${before.registration.serverName} in vault ${before.registration.vault}`,
      {
        hint: 'recover on the new machine, or point DRIVESEED_HOME at an empty directory',
      },
    );
  const settings = await readPublishSettings(request.publishSettings);
  const owner = new ServiceClient(settings.serviceUrl, { ownerKey: settings.ownerKey });
  const server = await findServer(owner, settings.subscriptionId, request.vault, request.serverName);
  const { servers } = await owner.request('listServers', { params: { subscriptionId: settings.subscriptionId, vaultName: request.vault }, query: {} });
  const sharing = servers.filter((s) => s.id !== server.id && s.applicationId === server.applicationId);
  if (sharing.length > 0)
    throw new DriveseedError('CONFLICT', `server ${server.name} signs in as an application that ${sharing.map((s) => s.name).join(', ')} use too`, {
      hint: 'revoking its certificates would lock them out as well: register this machine under a name of its own and restore with --server',
    });
  const policy = vaultPolicy(server);
  const application = { subscriptionId: settings.subscriptionId, applicationId: server.applicationId };
  const app = await owner.request('getApplication', { params: application });
  const thumbprint = await addMachineCertificate(owner, settings.subscriptionId, app.id, app.name, AGENT_CERTIFICATE_DAYS);
  await updateAgentConfig((c) => {
    c.registration = {
      serviceUrl: settings.serviceUrl,
      subscriptionId: settings.subscriptionId,
      vault: request.vault,
      serverId: server.id,
      serverName: server.name,
      applicationId: app.id,
    };
  });
  let passwordChecked: boolean;
  try {
    passwordChecked = await checkPassword(request.password);
  } catch (e) {
    // Nothing taken over: the new certificate goes, the old machine's still work.
    await owner.request('revokeCertificate', { params: { ...application, thumbprint } }).catch(() => undefined);
    await saveAgentConfig(before);
    throw e;
  }
  const revoked = app.certificates.filter((c) => !c.revoked && c.thumbprint !== thumbprint).map((c) => c.thumbprint);
  for (const old of revoked) await owner.request('revokeCertificate', { params: { ...application, thumbprint: old } });
  await updateAgentConfig((c) => {
    if (request.passwordFile) c.passwordFile = resolve(request.passwordFile);
    if (policy) c.policy = policy;
  });
  return { server, thumbprint, revoked, passwordChecked, ...(policy ? { policy } : {}) };
}

/**
 * The policy the vault holds for the server: the whole document `agent protect` stored (excludes,
 * upload limit, hooks, items, retention, offline seeding too), or, from an agent before it, the
 * paths and schedule alone. Read before anything is taken over, so a document this agent cannot
 * read stops the recovery with nothing changed.
 */
function vaultPolicy(server: Server): Policy | undefined {
  if (server.policyDocument) return readPolicyDocument(server.policyDocument);
  if (server.paths.length === 0) return undefined;
  return { paths: server.paths, excludes: [], ...(server.schedule ? { schedule: server.schedule } : {}) };
}

/** Opens the server's repository with the password (WRONG_PASSWORD if it is not); false when there is no repository yet. */
async function checkPassword(password: string): Promise<boolean> {
  const session = await openVaultSession({ interactive: true });
  if (!(await session.store.exists(CONFIG_FILE))) return false;
  await Repository.open(session.store, password);
  return true;
}
