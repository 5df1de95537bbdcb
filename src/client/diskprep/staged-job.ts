import { resolve } from 'node:path';
import type { ImportJob } from '../../api/schemas.js';
import { DriveseedError } from '../../core/errors.js';
import { loadAgentConfig } from '../agent/agent-config.js';
import { openImportService, type ImportService } from '../common/import-service.js';
import type { StagingRecord } from '../common/staging.js';
import { chooseStagedJob, runDiskprep, runVerify, type DiskprepOptions, type DiskprepResult, type Prompter } from './diskprep.js';
import type { VerifyProgress } from './verify-drives.js';
import { updateShipping, type ShippingDetails } from './shipping.js';

/** Which staged job diskprep works on, as its flags name it. */
export interface StagedJobChoice {
  /** The staging location; on the source computer, the agent's offline policy knows it. */
  staging?: string;
  /** Asked for when the staging location holds several jobs and none is named. */
  job?: string;
  /** Needed on a copy computer that is not the source computer. */
  publishSettings?: string;
  /** Replacement drives: the job's repair job rather than the job itself. */
  repair?: boolean;
}

interface StagedJob {
  staging: string;
  record: StagingRecord;
  api: ImportService;
}

/** The seed's DiskPrep: the staged backup onto drives, then the import job. */
export async function writeDrives(
  choice: StagedJobChoice,
  options: Pick<DiskprepOptions, 'drives' | 'capacity' | 'yes' | 'onProgress' | 'writeOnly' | 'onVerifyProgress'>,
  prompter: Prompter,
): Promise<{ staging: string; result: DiskprepResult }> {
  const { staging, record, api } = await openStagedJob(choice, prompter);
  const result = await runDiskprep({ ...options, staging, jobName: record.jobName, repair: !!choice.repair, prompter, api });
  return { staging, result };
}

/** `diskprep --verify`: the read-back of the job's drives on its own, and the job's registration once they pass. */
export async function verifyDrives(choice: StagedJobChoice, drives: string[], prompter: Prompter, onProgress?: (p: VerifyProgress) => void) {
  const { staging, record, api } = await openStagedJob(choice, prompter);
  return { staging, ...(await runVerify({ staging, jobName: record.jobName, drives, repair: !!choice.repair, prompter, api, onProgress })) };
}

/** The seed's "DiskPrep u:": the shipping details of the job, asked for where `given` lacks them. */
export async function enterShipping(choice: StagedJobChoice, given: Partial<ShippingDetails>, yes: boolean, prompter: Prompter): Promise<ImportJob> {
  const { staging, record, api } = await openStagedJob(choice, prompter);
  return updateShipping({ staging, jobName: record.jobName, serviceJob: serviceJobOf(record, choice), given, yes, prompter, api });
}

/** The staged job, and the service's import job once diskprep has created it. */
export async function stagedJobStatus(choice: StagedJobChoice, prompter: Prompter): Promise<{ record: StagingRecord; job?: ImportJob }> {
  const { record, api } = await openStagedJob(choice, prompter);
  return { record, job: await api.get(serviceJobOf(record, choice)) };
}

async function openStagedJob(choice: StagedJobChoice, prompter: Prompter): Promise<StagedJob> {
  const { staging, job } = await stagingOf(choice);
  const record = await chooseStagedJob(staging, job, prompter);
  return { staging, record, api: await openImportService(record, choice.publishSettings) };
}

/** On the source computer the staging location and job come from the agent's offline policy. */
async function stagingOf(choice: StagedJobChoice): Promise<{ staging: string; job?: string }> {
  if (choice.staging) return { staging: resolve(choice.staging), job: choice.job };
  const offline = (await loadAgentConfig()).policy?.offline;
  if (!offline) throw new DriveseedError('USAGE', 'no staging location given', { hint: 'pass --staging DIR' });
  return { staging: offline.staging, job: choice.job ?? offline.jobName };
}

/** With --repair, shipping and status are the repair job's. */
function serviceJobOf(record: StagingRecord, choice: StagedJobChoice): string {
  if (!choice.repair) return record.jobName;
  if (!record.repairJob)
    throw new DriveseedError('USAGE', `job ${record.jobName} has no replacement drives`, { hint: 'write them first: diskprep --repair --drive PATH' });
  return record.repairJob;
}
