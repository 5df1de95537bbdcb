import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createSelfSignedCertificate } from '../src/core/certificates/certificate-factory.js';
import { ServiceClient } from '../src/api/service-client.js';
import { routePath, routes } from '../src/api/routes.js';
import { createSubscription } from '../src/service/identity/subscriptions.js';
import { startService, type RunningService, type StartOptions } from '../src/service/start-service.js';
import { tempDir } from './cli-harness.js';

/** A subscription with a vault and a registered server, as a customer of the provider holds one. */
export interface Tenant {
  subscriptionId: string;
  ownerKey: string;
  client: ServiceClient;
  vaultId: string;
  serverId: string;
  /** The URL of a blob of this tenant's server (or of its blob listing, with query). */
  blobUrl(name: string): string;
  listUrl(query?: Record<string, string>): string;
  headers: Record<string, string>;
}

export interface HostileSetting {
  service: RunningService;
  url: string;
  dataDir: string;
  victim: Tenant;
  attacker: Tenant;
  /** /health, which must answer through every attack. */
  health(): Promise<number>;
  /** Connections a test holds open: closed before the service stops, which waits for open requests. */
  holdOpen(close: () => void): void;
}

/**
 * A real service (startService: data directory, bootstrap file, SQLite, file blob store,
 * listening on a port) with two tenants that hold valid credentials for their own
 * subscriptions only: the attacker tries to reach or slow down the victim.
 */
export async function startHostileSetting(t: any, options: Partial<StartOptions> = {}): Promise<HostileSetting> {
  const dir = await tempDir(t, 'hostile-service-');
  const dataDir = join(dir, 'service');
  const service = await startService({ dataDir, listen: '127.0.0.1:0', importWorker: false, ...options });
  const held: (() => void)[] = [];
  t.after(async () => {
    for (const close of held) close();
    await service.stop();
  });
  const url = service.url;
  const tenant = async (name: string): Promise<Tenant> => {
    const { id: subscriptionId, ownerKey } = await createSubscription(service.database.db, name, new Date());
    const client = new ServiceClient(url, { ownerKey });
    const vault = await client.request('ensureVault', { params: { subscriptionId, vaultName: 'main' } });
    const certificate = await createSelfSignedCertificate(name, 30);
    const application = await client.createApplication(subscriptionId, { name, certificate: certificate.certificatePem });
    const server = await client.request('registerServer', { params: { subscriptionId, vaultName: 'main' }, body: { name, applicationId: application.id } });
    const params = { subscriptionId, vaultName: 'main', serverId: server.id };
    return {
      subscriptionId,
      ownerKey,
      client,
      vaultId: vault.id,
      serverId: server.id,
      blobUrl: (blob) => url + routePath(routes.getBlob, { ...params, '*': blob }),
      listUrl: (query = {}) => url + routePath(routes.listBlobs, params, query),
      headers: { authorization: `OwnerKey ${ownerKey}` },
    };
  };
  const victim = await tenant('victim');
  const attacker = await tenant('attacker');
  const health = async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).status;
  assert.equal(await health(), 200);
  return { service, url, dataDir, victim, attacker, health, holdOpen: (close) => held.push(close) };
}

/** A refusal is one line: no stack, no newline, nothing of the service's own paths. */
export function assertOneLine(message: string, dataDir: string): void {
  assert.ok(message.length > 0 && !message.includes('\n'), `one line: ${JSON.stringify(message)}`);
  assert.ok(!message.includes(dataDir), `no host path in ${JSON.stringify(message)}`);
}
