import type { CommandItem } from '../../core/backup/command-items.js';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DriveseedError } from '../../core/errors.js';
import type { CertificateWithKey } from '../../core/certificates/certificates.js';
import type { KeepPolicy } from '../../core/repo/forget-policy.js';

/**
 * The agent's "registry": a small JSON file in DRIVESEED_HOME (default ~/.driveseed), plus
 * certificates and their private keys (mode 0600) in certs/. Everything here can be made
 * again by certgen and register; the repository password never goes in it.
 */
export interface OfflineApplicationParams {
  version: 1;
  serviceUrl: string;
  subscriptionId: string;
  applicationId: string;
  applicationName: string;
  certificateThumbprint: string;
}

/** What `agent register` and `agent protect` record. */
export interface Registration {
  serviceUrl: string;
  subscriptionId: string;
  vault: string;
  serverId: string;
  serverName: string;
  applicationId: string;
}

export interface Policy {
  paths: string[];
  excludes: string[];
  /** Stay on the file systems of the paths (restic's --one-file-system); a mount point below is kept, empty. */
  oneFileSystem?: boolean;
  /** Leave out the contents of directories tagged with a CACHEDIR.TAG. */
  excludeCaches?: boolean;
  schedule?: string;
  /** Upload limit for thin links: bytes per second, or a schedule's text ('Mon-Fri 08:00-18:00=2M, *=20M', rate-schedule.ts). */
  limitUpload?: number | string;
  /** Offline seeding: the first full backup goes to staging and travels on drives. */
  offline?: OfflinePolicy;
  /** The offline delta whose import the next backups wait for; cleared once it landed. */
  delta?: PendingDelta;
  /** Shell commands run before and after each backup (docs/workloads.md, "Hooks"). */
  preHook?: string;
  postHook?: string;
  /** Commands whose output is backed up beside the paths, one file each (`agent protect --item NAME --command CMD`). */
  items?: CommandItem[];
  /** Which recovery points the vault keeps (restic's keep rules); none: every point is kept. */
  retention?: KeepPolicy;
}

export interface OfflinePolicy {
  staging: string;
  jobName: string;
  storageAccount: string;
  container: string;
  /** Bytes the seed completion may send over the network for what the import lacked (default 1 GiB). */
  healLimit?: number;
  /** Set once the vault holds the verified seed; from then on backups are online incrementals. */
  seeded?: boolean;
}

/** An offline delta on its way (`agent backup-now --offline-delta`): backups wait for its import as for a seed's. */
export interface PendingDelta {
  staging: string;
  jobName: string;
  storageAccount: string;
  container: string;
  healLimit?: number;
}

export interface AgentConfig {
  version: 1;
  registration?: Registration;
  policy?: Policy;
  /** Where scheduled runs read the repository password (never the password itself). */
  passwordFile?: string;
  /** The seed's AzureADAppCertThumbprint_<user id> entries: which certificate each application uses. */
  applicationCertThumbprints: Record<string, string>;
  /** The seed's AddRegistryEntries result: offline-application params per storage account. */
  storageAccounts: Record<string, OfflineApplicationParams>;
}

export function agentHome(): string {
  return process.env.DRIVESEED_HOME || join(homedir(), '.driveseed');
}

const configPath = () => join(agentHome(), 'config.json');
const certPath = (thumbprint: string) => join(agentHome(), 'certs', `${thumbprint}.pem`);
const keyPath = (thumbprint: string) => join(agentHome(), 'certs', `${thumbprint}.key`);

export async function loadAgentConfig(): Promise<AgentConfig> {
  try {
    const value = JSON.parse(await readFile(configPath(), 'utf8')) as AgentConfig;
    if (value.version !== 1) throw new DriveseedError('UNSUPPORTED_VERSION', `${configPath()}: agent config version ${value.version} is not supported`);
    return value;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, applicationCertThumbprints: {}, storageAccounts: {} };
    if (e instanceof SyntaxError) throw new DriveseedError('CORRUPT', `${configPath()} is not valid JSON`);
    throw e;
  }
}

/** Written to a temp file and renamed, so a crash never leaves half a config. */
export async function saveAgentConfig(config: AgentConfig): Promise<void> {
  await mkdir(agentHome(), { recursive: true, mode: 0o700 });
  const temp = `${configPath()}.tmp-${process.pid}`;
  await writeFile(temp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  await rename(temp, configPath());
}

export async function updateAgentConfig(change: (config: AgentConfig) => void): Promise<AgentConfig> {
  const config = await loadAgentConfig();
  change(config);
  await saveAgentConfig(config);
  return config;
}

export async function storeCertificate(cert: CertificateWithKey): Promise<void> {
  await mkdir(join(agentHome(), 'certs'), { recursive: true, mode: 0o700 });
  await writeFile(certPath(cert.thumbprint), cert.certificatePem, { mode: 0o644 });
  await writeFile(keyPath(cert.thumbprint), cert.privateKeyPem, { mode: 0o600 });
  await chmod(keyPath(cert.thumbprint), 0o600);
}

export async function loadCertificate(thumbprint: string): Promise<CertificateWithKey> {
  try {
    return {
      thumbprint,
      certificatePem: await readFile(certPath(thumbprint), 'utf8'),
      privateKeyPem: await readFile(keyPath(thumbprint), 'utf8'),
    };
  } catch {
    throw new DriveseedError('NOT_FOUND', `no certificate ${thumbprint} with its private key in ${join(agentHome(), 'certs')}`, {
      hint: 'run `driveseed certgen create-app` on this machine, or set the thumbprint of a certificate that is here',
    });
  }
}
