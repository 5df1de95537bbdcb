import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { DriveseedError, isDriveseedError } from '../../core/errors.js';
import { RetryStore } from '../../core/storage/retry.js';
import { ThrottleStore, type RateLimit } from '../../core/storage/throttle.js';
import { RateSchedule } from '../../core/util/rate-schedule.js';
import type { BlobStore } from '../../core/storage/blob-store.js';
import { loadAgentConfig, loadCertificate, type AgentConfig, type Registration } from './agent-config.js';
import { ServiceClient } from '../../api/service-client.js';
import type { ServerParams } from '../../api/schemas.js';
import { VaultStore } from './vault-store.js';
import { DirectVaultStore } from './direct-vault-store.js';
import { PackGrants } from './pack-grants.js';

export interface VaultSession {
  config: AgentConfig;
  registration: Registration;
  client: ServiceClient;
  store: BlobStore;
  /** The server's path parameters, for every call about it. */
  server: ServerParams;
}

/**
 * Everything an agent command needs to talk to its vault: the registration, a client that
 * signs in with the application's certificate, and the repository's store behind retries
 * (a service restart mid-backup is waited out) and the upload limit.
 */
export async function openVaultSession(options: SessionOptions = {}): Promise<VaultSession> {
  const config = await loadAgentConfig();
  const registration = config.registration;
  if (!registration)
    throw new DriveseedError('USAGE', 'this agent is not registered', { hint: 'run `driveseed agent register --publish-settings FILE --vault NAME`' });
  const thumbprint = config.applicationCertThumbprints[registration.applicationId];
  if (!thumbprint)
    throw new DriveseedError('USAGE', `no certificate recorded for application ${registration.applicationId}`, {
      hint: 'run `driveseed certgen set-thumbprint`',
    });
  const client = new ServiceClient(registration.serviceUrl, { applicationId: registration.applicationId, certificate: await loadCertificate(thumbprint) });
  const server = { subscriptionId: registration.subscriptionId, vaultName: registration.vault, serverId: registration.serverId };
  if (options.interactive) await probeService(client);
  // A run's own limit (backup-now --limit-upload) goes before the policy's.
  const store = vaultRepositoryStore(client, server, { limitUpload: options.limitUpload ?? config.policy?.limitUpload, limitDownload: options.limitDownload });
  return { config, registration, client, store, server };
}

export interface SessionOptions {
  /**
   * A person waits for this command (a restore, a listing): a service that cannot be reached
   * is reported within seconds, rather than waited for as a backup waits out a restart. Once
   * the service answered, the work itself rides out hiccups as a backup does.
   */
  interactive?: boolean;
  /** This run's upload limit instead of the policy's: bytes per second, or a schedule's text. */
  limitUpload?: number | string;
  /** Bytes per second a restore may download. */
  limitDownload?: number;
}

/** Transfer limits of a vault store: a policy keeps a rate as a number and a schedule as its text. */
export interface TransferLimits {
  limitUpload?: number | string;
  limitDownload?: number;
}

/** A policy's limit as a throttle takes it; a schedule is read again from its text, so the local time at each refill decides the rate. */
export function rateLimitOf(limit: number | string | undefined): RateLimit | undefined {
  if (limit === undefined || typeof limit === 'number') return limit;
  const schedule = RateSchedule.parse(limit);
  return (at) => schedule.rateAt(at);
}

/** A few tries over some five seconds: a blip is ridden out, a service that is down is reported. */
const PROBE_DELAYS_MS = [500, 1500, 3000];

/** Asks the service's health route until it answers; after the last try, one line that says how often it was tried. */
export async function probeService(client: ServiceClient): Promise<void> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await client.request('health', {});
      return;
    } catch (e) {
      if (!isDriveseedError(e, 'SERVICE') || attempt > PROBE_DELAYS_MS.length) {
        if (!isDriveseedError(e, 'SERVICE')) throw e;
        const seconds = Math.round((Date.now() - started) / 1000);
        throw new DriveseedError('SERVICE', `${e.message} (tried ${attempt} times in ${seconds} s)`, { hint: e.hint, cause: e });
      }
      await sleep(PROBE_DELAYS_MS[attempt - 1]);
    }
  }
}

/** A server's repository in the vault, through `client`: packs direct where they can go, behind the upload limit and retries. */
export function vaultRepositoryStore(client: ServiceClient, server: ServerParams, options: TransferLimits = {}): BlobStore {
  const vaultStore = packStore(client, server, new VaultStore(client, server.subscriptionId, server.vaultName, server.serverId));
  const limits = { uploadBytesPerSecond: rateLimitOf(options.limitUpload), downloadBytesPerSecond: options.limitDownload };
  const limited = limits.uploadBytesPerSecond || limits.downloadBytesPerSecond ? new ThrottleStore(vaultStore, limits) : vaultStore;
  return new RetryStore(limited, { attempts: Infinity, baseDelayMs: 250, maxDelayMs: 5000, maxElapsedMs: retrySeconds() * 1000 });
}

/**
 * Packs go straight to the vault's blob storage when the service can sign URLs for them;
 * DRIVESEED_DIRECT_BLOBS=off sends them through the service (an agent that cannot reach the
 * storage endpoint, or a comparison of the two paths).
 */
function packStore(client: ServiceClient, server: ServerParams, viaService: VaultStore): BlobStore {
  if (process.env.DRIVESEED_DIRECT_BLOBS === 'off') return viaService;
  return new DirectVaultStore(viaService, new PackGrants(client, server), client.traffic);
}

/**
 * How long a storage call keeps retrying before the backup fails: two minutes covers a
 * service restart or a blob-store hiccup; DRIVESEED_RETRY_SECONDS changes it.
 */
function retrySeconds(): number {
  const value = Number(process.env.DRIVESEED_RETRY_SECONDS ?? 120);
  return Number.isFinite(value) && value >= 0 ? value : 120;
}

export function defaultServerName(): string {
  return hostname();
}
