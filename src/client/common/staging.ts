import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DriveseedError } from '../../core/errors.js';
import { IMPORT_JOB_NAME } from '../../api/contract.js';

/**
 * The staging location of offline backups (the seed's "staging location"): one folder per
 * import job, so several servers can stage onto one share and diskprep lists their jobs.
 *
 *   STAGING/<job>/staging.json    who staged it and where the import lands (this record)
 *   STAGING/<job>/repository/     the first full backup, in the repository format
 *   STAGING/<job>/diskprep/       diskprep's journal and drive keys (mode 0700)
 *   STAGING/<job>/shipping.json   the shipping details as last entered
 *
 * Nothing here is secret but the drive keys: the repository is encrypted with the agent's key.
 */
export const STAGING_RECORD_FORMAT = 'driveseed-staging';
export const STAGING_RECORD_VERSION = 3;
/** Version 2 added `repairJob`, version 3 `kind`; an older record reads as one without them (a seed). */
const READABLE_RECORD_VERSIONS = [1, 2, 3];

/** staging: the offline backup is being written; staged: it is complete; seeded: the vault holds it. */
export type StagingState = 'staging' | 'staged' | 'seeded';

export interface StagingRecord {
  format: typeof STAGING_RECORD_FORMAT;
  version: number;
  jobName: string;
  storageAccount: string;
  container: string;
  serviceUrl: string;
  subscriptionId: string;
  vault: string;
  serverId: string;
  serverName: string;
  createdAt: string;
  state: StagingState;
  /** The staged first backup's snapshot, once it is complete. */
  snapshotId?: string;
  /**
   * The import job of replacement drives (`diskprep --repair`): what the first import did not
   * deliver, on new drives into the same container. The agent waits for it before healing.
   */
  repairJob?: string;
  /**
   * Snapshots the agent made in the vault while the drives travelled (version 2). They need
   * the seed's packs; if the seed is withdrawn (its job canceled) they go with it.
   */
  inTransitSnapshots?: string[];
  /**
   * Version 3: `delta` for an offline delta (`agent backup-now --offline-delta`), a later
   * import job into the same repository carrying only what the vault lacked; absent for a seed.
   */
  kind?: 'delta';
}

export const jobDirectory = (staging: string, jobName: string) => join(resolve(staging), jobName);
export const stagedRepositoryDirectory = (staging: string, jobName: string) => join(jobDirectory(staging, jobName), 'repository');
export const diskprepStateDirectory = (staging: string, jobName: string) => join(jobDirectory(staging, jobName), 'diskprep');
/** The shipping details of the job, or of its repair job (`serviceJob`), in the job's folder. */
export const shippingFile = (staging: string, jobName: string, serviceJob = jobName) =>
  join(jobDirectory(staging, jobName), serviceJob === jobName ? 'shipping.json' : `shipping-${serviceJob}.json`);
const recordPath = (staging: string, jobName: string) => join(jobDirectory(staging, jobName), 'staging.json');

export function assertJobName(name: string): void {
  if (!IMPORT_JOB_NAME.test(name)) {
    throw new DriveseedError('USAGE', `import job name "${name}" breaks the naming rules: 2–64 lower-case letters, digits, - and _, starting with a letter`);
  }
}

export async function readStagingRecord(staging: string, jobName: string): Promise<StagingRecord | undefined> {
  let text: string;
  try {
    text = await readFile(recordPath(staging, jobName), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DriveseedError('IO', `cannot read ${recordPath(staging, jobName)}: ${(e as NodeJS.ErrnoException).code}`);
  }
  return parseStagingRecord(text, recordPath(staging, jobName));
}

const STAGING_STATES: ReadonlySet<unknown> = new Set<StagingState>(['staging', 'staged', 'seeded']);
const RECORD_STRINGS = ['jobName', 'storageAccount', 'container', 'serviceUrl', 'subscriptionId', 'vault', 'serverId', 'serverName', 'createdAt'] as const;

/**
 * A staging record's text, checked field by field: the agent and diskprep join its job name
 * onto paths and compare its ids, so a damaged record is CORRUPT in one line, not a TypeError
 * (or a path outside the staging directory) later.
 */
export function parseStagingRecord(text: string, where: string): StagingRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DriveseedError('CORRUPT', `${where} is not valid JSON`);
  }
  const value = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<Record<keyof StagingRecord, unknown>>;
  if (value.format !== STAGING_RECORD_FORMAT) throw new DriveseedError('CORRUPT', `${where} is not a driveseed staging record`);
  if (!READABLE_RECORD_VERSIONS.includes(value.version as number))
    throw new DriveseedError('UNSUPPORTED_VERSION', `${where}: staging record version ${JSON.stringify(value.version)} is not supported`);
  const damaged = (field: string) => new DriveseedError('CORRUPT', `${where}: staging record is damaged (${field})`);
  for (const field of RECORD_STRINGS) if (typeof value[field] !== 'string') throw damaged(field);
  if (!IMPORT_JOB_NAME.test(value.jobName as string)) throw damaged('jobName');
  if (!STAGING_STATES.has(value.state)) throw damaged('state');
  for (const field of ['snapshotId', 'repairJob'] as const) if (value[field] !== undefined && typeof value[field] !== 'string') throw damaged(field);
  if (value.kind !== undefined && value.kind !== 'delta') throw damaged('kind');
  const inTransit = value.inTransitSnapshots;
  if (inTransit !== undefined && !(Array.isArray(inTransit) && inTransit.every((id) => typeof id === 'string'))) throw damaged('inTransitSnapshots');
  return value as StagingRecord;
}

/** Written to a temp file and renamed: a kill never leaves half a record. */
export async function writeStagingRecord(staging: string, record: StagingRecord): Promise<void> {
  await mkdir(jobDirectory(staging, record.jobName), { recursive: true });
  const path = recordPath(staging, record.jobName);
  await writeFile(`${path}.tmp`, JSON.stringify({ ...record, version: STAGING_RECORD_VERSION }, null, 2) + '\n');
  await rename(`${path}.tmp`, path);
}

/**
 * Ties a job folder to this server. A folder staged for another server or subscription is
 * refused: two agents writing one repository would each think the other's data is theirs.
 */
export async function claimStaging(staging: string, record: StagingRecord): Promise<StagingRecord> {
  const existing = await readStagingRecord(staging, record.jobName);
  if (existing) {
    if (existing.serverId !== record.serverId || existing.subscriptionId !== record.subscriptionId) {
      throw new DriveseedError(
        'CONFLICT',
        `${jobDirectory(staging, record.jobName)} is the staging directory of job ${existing.jobName} of server ${existing.serverName}, not this server's`,
        {
          hint: 'choose another --job name or another --staging directory',
        },
      );
    }
    if (existing.storageAccount !== record.storageAccount || existing.container !== record.container) {
      throw new DriveseedError(
        'CONFLICT',
        `job ${record.jobName} was staged for ${existing.storageAccount}/${existing.container}; one job goes to one storage account and container`,
      );
    }
    return existing;
  }
  await writeStagingRecord(staging, record);
  return record;
}

/** The import jobs staged in a location (diskprep lists them and asks which). */
export async function listStagedJobs(staging: string): Promise<StagingRecord[]> {
  let entries: string[];
  try {
    entries = await readdir(resolve(staging));
  } catch (e) {
    throw new DriveseedError('USAGE', `staging directory ${staging} is not there (${(e as NodeJS.ErrnoException).code})`);
  }
  const records: StagingRecord[] = [];
  for (const name of entries.sort()) {
    if (!IMPORT_JOB_NAME.test(name)) continue;
    const record = await readStagingRecord(staging, name);
    if (record) records.push(record);
  }
  return records;
}
