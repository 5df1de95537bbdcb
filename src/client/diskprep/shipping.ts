import { readFile, rename, writeFile } from 'node:fs/promises';
import { DriveseedError } from '../../core/errors.js';
import type { ImportJob, ShippingDetails } from '../../api/schemas.js';
import type { Prompter } from './diskprep.js';
import { shippingFile } from '../common/staging.js';

export type { ShippingDetails };

/** The fields in the order the seed's tool asks for them, with the flag that gives each. */
export const SHIPPING_FIELDS: readonly { key: keyof ShippingDetails; label: string; flag: string }[] = [
  { key: 'carrier', label: 'Carrier', flag: '--carrier' },
  { key: 'trackingNumber', label: 'Tracking number', flag: '--tracking' },
  { key: 'shipDate', label: 'Ship date (YYYY-MM-DD)', flag: '--ship-date' },
  { key: 'contactName', label: 'Contact name', flag: '--contact-name' },
  { key: 'phone', label: 'Phone', flag: '--phone' },
  { key: 'email', label: 'Email', flag: '--email' },
  { key: 'returnAddress', label: 'Return address', flag: '--return-address' },
  { key: 'country', label: 'Country (two letters, e.g. NL)', flag: '--country' },
  { key: 'postalCode', label: 'Postal code', flag: '--postal-code' },
];

export interface ShippingApi {
  setShipping(jobName: string, details: ShippingDetails): Promise<ImportJob>;
}

/**
 * The seed's "DiskPrep u:": fills in what the flags left out by asking (offering what was
 * entered last time), shows the whole set for review, takes "yes", sends it to the service
 * (which refuses a tracking number another job uses) and keeps it in the staging folder.
 */
export async function updateShipping(options: {
  staging: string;
  jobName: string;
  /** The service's job when it is not the staged job itself: its repair job. */
  serviceJob?: string;
  given: Partial<ShippingDetails>;
  yes: boolean;
  prompter: Prompter;
  api: ShippingApi;
}): Promise<ImportJob> {
  const serviceJob = options.serviceJob ?? options.jobName;
  const previous = (await readShipping(options.staging, options.jobName, serviceJob)) ?? (await readShipping(options.staging, options.jobName));
  const details: Partial<ShippingDetails> = { ...options.given };
  const missing = SHIPPING_FIELDS.filter((f) => !details[f.key]);
  if (missing.length > 0 && !options.prompter.interactive) {
    throw new DriveseedError('USAGE', `shipping details need ${missing.map((f) => f.flag).join(', ')}`);
  }
  for (const field of missing) {
    const before = previous?.[field.key];
    const answer = (await options.prompter.ask(`${field.label}${before ? ` [${before}]` : ''}: `)).trim();
    details[field.key] = answer || before || '';
  }
  const complete = details as ShippingDetails;
  options.prompter.say(`Shipping details for import job ${serviceJob}:`);
  for (const field of SHIPPING_FIELDS) options.prompter.say(`  ${field.label.padEnd(32)} ${complete[field.key]}`);
  if (!options.yes) {
    if (!options.prompter.interactive) throw new DriveseedError('USAGE', 'confirm the shipping details with --yes');
    const answer = await options.prompter.ask('Type "yes" to confirm: ');
    if (answer.trim().toLowerCase() !== 'yes') throw new DriveseedError('USAGE', 'shipping details not confirmed; nothing was changed');
  }
  const job = await options.api.setShipping(serviceJob, complete);
  await saveShipping(options.staging, options.jobName, serviceJob, complete);
  return job;
}

export async function readShipping(staging: string, jobName: string, serviceJob = jobName): Promise<ShippingDetails | undefined> {
  try {
    return JSON.parse(await readFile(shippingFile(staging, jobName, serviceJob), 'utf8')) as ShippingDetails;
  } catch {
    return undefined;
  }
}

/** Personal data: readable by the owner only. */
async function saveShipping(staging: string, jobName: string, serviceJob: string, details: ShippingDetails): Promise<void> {
  const path = shippingFile(staging, jobName, serviceJob);
  await writeFile(`${path}.tmp`, JSON.stringify(details, null, 2) + '\n', { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}
