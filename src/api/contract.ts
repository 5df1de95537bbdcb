/*
 * The API's plain values — names, patterns, limits, a state rule — that clients use at run
 * time. They live apart from schemas.ts, whose TypeBox library costs a command 70–100 ms to
 * load when only these were needed; schemas.ts builds its schemas from them, and nothing here
 * imports the schemas, so loading this module costs nothing.
 */

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A repository's pack file: the only files an agent may write or read straight in blob storage. */
export const PACK_NAME_PATTERN = '^data/[0-9a-f]{2}/[0-9a-f]{64}$';
/** Grants asked for at once: a restore asks for the packs it is about to read. */
export const MAX_GRANTS_PER_REQUEST = 64;

/** Pack names an export-job request carries: a large recovery point's list goes in several (the service's body limit is 1 MiB). */
export const MAX_EXPORT_PACKS_PER_REQUEST = 5_000;

/** Job names: lower-case letters, digits, - and _, starting with a letter (the agent checks them before any drive is written). */
export const IMPORT_JOB_NAME = /^[a-z][a-z0-9_-]{1,63}$/;
/** Drives the data centre is done with, or gave up on: once every drive is one of these, nothing more will land in the container. */
export const SETTLED_DRIVE_STATES: readonly string[] = ['Completed', 'CompletedMoreInfo', 'ShippedBack', 'NeverReceived'];

/**
 * Whether an import job's drives are all done with (imported, failed or never received). It
 * takes any job with states, so the agent asks it of the API's view and the service of its rows.
 */
export function importSettled(job: { state: string; drives: readonly { state: string }[] }): boolean {
  return job.state !== 'Canceled' && job.drives.length > 0 && job.drives.every((d) => SETTLED_DRIVE_STATES.includes(d.state));
}
