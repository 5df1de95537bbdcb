import { DriveseedError } from '../../core/errors.js';

/**
 * The Import/Export service's job and drive states and the only moves between them.
 * Everything that changes a state goes through `assertJobMove` / `assertDriveMove`; a move
 * they refuse is a CONFLICT on the `state` field, for the API and the data centre's CLI alike.
 */
export type JobState = 'Creating' | 'Shipping' | 'Received' | 'Transferring' | 'Packaging' | 'Completed' | 'Closed' | 'Canceled';
export type DriveState = 'Specified' | 'Received' | 'Transferring' | 'Completed' | 'CompletedMoreInfo' | 'ShippedBack' | 'NeverReceived';

const JOB_MOVES: Record<JobState, JobState[]> = {
  Creating: ['Shipping', 'Canceled'],
  Shipping: ['Received', 'Closed'],
  Received: ['Transferring', 'Closed'],
  Transferring: ['Packaging'],
  Packaging: ['Completed', 'Closed'],
  Completed: [],
  Closed: [],
  Canceled: [],
};

const DRIVE_MOVES: Record<DriveState, DriveState[]> = {
  Specified: ['Received', 'NeverReceived'],
  // A drive that turns up after it was declared missing is received after all.
  NeverReceived: ['Received'],
  Received: ['Transferring'],
  Transferring: ['Completed', 'CompletedMoreInfo'],
  Completed: ['ShippedBack'],
  CompletedMoreInfo: ['ShippedBack'],
  ShippedBack: [],
};

/**
 * Import jobs carry drives into the data centre, export jobs (restore by drive) carry a
 * recovery point out on the customer's blank drives: the same states and moves, as in Azure's
 * Import/Export service; only the words differ.
 */
export type JobKind = 'import' | 'export';

export function assertJobMove(from: JobState, to: JobState, kind: JobKind = 'import'): void {
  if (!JOB_MOVES[from].includes(to)) throw new DriveseedError('CONFLICT', `an ${kind} job in state ${from} cannot become ${to}`, { field: 'state' });
}

export function assertDriveMove(from: DriveState, to: DriveState): void {
  if (!DRIVE_MOVES[from].includes(to)) throw new DriveseedError('CONFLICT', `a drive in state ${from} cannot become ${to}`, { field: 'state' });
}

export const DAY_MS = 86_400_000;
/** A job without shipping details is deleted after 14 days. */
export const CREATING_TTL_MS = 14 * DAY_MS;
/** Drives must arrive within 14 days of the shipping details. */
export const ARRIVAL_WINDOW_MS = 14 * DAY_MS;
/** Completed and Closed jobs are deleted after 90 days. */
export const FINISHED_TTL_MS = 90 * DAY_MS;

/** The deadline still ahead of a job: its shipping details (Creating), or its drives' arrival (Shipping); `drives` says which drives. */
export function jobDeadline(
  job: { state: string; created_at: string; shipped_at: string | null },
  drives = 'drives',
): { what: string; at: string } | undefined {
  if (job.state === 'Creating')
    return { what: 'shipping details must be entered by', at: new Date(Date.parse(job.created_at) + CREATING_TTL_MS).toISOString() };
  if (job.state === 'Shipping' && job.shipped_at)
    return { what: `${drives} must arrive by`, at: new Date(Date.parse(job.shipped_at) + ARRIVAL_WINDOW_MS).toISOString() };
  return undefined;
}
