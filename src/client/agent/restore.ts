import type { RecoveryPoint, Server, ServerParams } from '../../api/schemas.js';
import { ServiceClient } from '../../api/service-client.js';
import { DriveseedError, isDriveseedError } from '../../core/errors.js';
import { Repository } from '../../core/repo/repository.js';
import type { BlobStore } from '../../core/storage/blob-store.js';
import { readPublishSettings } from '../common/publish-settings.js';
import { loadAgentConfig } from './agent-config.js';
import { withMetadataCache } from './metadata-cache-directory.js';
import { openVaultSession, probeService, vaultRepositoryStore } from './vault-session.js';

/**
 * Whose recovery points a command reads: this agent's server by default; another server of
 * the vault (a lost one, or a colleague's) read-only with the subscription owner's publish
 * settings, which may act for any server — nothing is registered or changed for that.
 */
export interface ServerChoice {
  server?: string;
  publishSettings?: string;
  vault?: string;
}

interface ChosenServer {
  client: ServiceClient;
  params: ServerParams;
  name: string;
  store: BlobStore;
}

async function chooseServer(choice: ServerChoice, limitDownload?: number): Promise<ChosenServer> {
  const registration = (await loadAgentConfig()).registration;
  const own =
    registration && (choice.server === undefined || choice.server === registration.serverName) && (choice.vault ?? registration.vault) === registration.vault;
  if (own && !choice.publishSettings) {
    const session = await openVaultSession({ interactive: true, limitDownload });
    return { client: session.client, params: session.server, name: registration.serverName, store: session.store };
  }
  if (!choice.publishSettings) {
    if (!registration) throw notRegistered();
    throw new DriveseedError('USAGE', `server ${choice.server} is not this agent's (this one is ${registration.serverName} in vault ${registration.vault})`, {
      hint: `read its recovery points with --publish-settings FILE, or take it over with \`driveseed agent register --publish-settings FILE --vault ${choice.vault ?? registration.vault} --recover ${choice.server}\``,
    });
  }
  const vault = choice.vault ?? registration?.vault;
  if (!vault) throw new DriveseedError('USAGE', 'which vault? pass --vault NAME');
  const name = choice.server ?? registration?.serverName;
  if (!name) throw new DriveseedError('USAGE', 'which server? pass --server NAME');
  const settings = await readPublishSettings(choice.publishSettings);
  const client = new ServiceClient(settings.serviceUrl, { ownerKey: settings.ownerKey });
  await probeService(client);
  const server = await findServer(client, settings.subscriptionId, vault, name);
  const params = { subscriptionId: settings.subscriptionId, vaultName: vault, serverId: server.id };
  return { client, params, name, store: vaultRepositoryStore(client, params, { limitDownload }) };
}

/** The vault's server of that name, as the owner sees it; a missing one is named with the ones there are. */
export async function findServer(owner: ServiceClient, subscriptionId: string, vault: string, name: string): Promise<Server> {
  const { servers } = await owner.request('listServers', { params: { subscriptionId, vaultName: vault }, query: {} });
  const server = servers.find((s) => s.name === name);
  if (!server)
    throw new DriveseedError('NOT_FOUND', `vault ${vault} has no server ${name}`, {
      hint: servers.length > 0 ? `its servers: ${servers.map((s) => s.name).join(', ')}` : 'it has no servers yet',
    });
  return server;
}

function notRegistered(): DriveseedError {
  return new DriveseedError('USAGE', 'this agent is not registered', {
    hint: 'run `driveseed agent register --publish-settings FILE --vault NAME` (with --recover NAME on a machine that replaces a lost server), or pass --publish-settings FILE --vault NAME --server NAME',
  });
}

/** The repository of the chosen server in its vault, for `agent restore` to read recovery points from. */
export async function openVaultRepository(password: string, choice: ServerChoice = {}, limits: { limitDownload?: number } = {}): Promise<Repository> {
  const chosen = await chooseServer(choice, limits.limitDownload);
  try {
    return await withMetadataCache(await Repository.open(chosen.store, password));
  } catch (e) {
    // The engine's "not a repository, create one with init" is the wrong advice here: the vault
    // makes the repository with the server's first backup.
    if (isDriveseedError(e, 'NOT_A_REPOSITORY'))
      throw new DriveseedError('NOT_FOUND', `server ${chosen.name} has no backups in vault ${chosen.params.vaultName} yet`, {
        hint: `back it up first (\`driveseed agent backup-now\`); for a lost server's backups, see \`driveseed agent recovery-points --server NAME --publish-settings FILE\``,
      });
    throw e;
  }
}

/** `agent recovery-points`: the chosen server's recovery points, newest first, as the vault records them. */
export async function listRecoveryPoints(choice: ServerChoice = {}): Promise<{ server: Server; vault: string; recoveryPoints: RecoveryPoint[] }> {
  const chosen = await chooseServer(choice);
  const status = await chosen.client.request('serverStatus', { params: chosen.params });
  return { server: status.server, vault: chosen.params.vaultName, recoveryPoints: status.recoveryPoints };
}
