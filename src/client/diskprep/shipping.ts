import { readFile, rename, writeFile } from 'node:fs/promises';
import { DriveseedError } from '../../core/errors.js';
import { Value } from '@sinclair/typebox/value';
import { ShippingDetailsBody, type ImportJob, type ShippingDetails } from '../../api/schemas.js';
import type { Prompter } from './diskprep.js';
import { shippingFile } from '../common/staging.js';

export type { ShippingDetails };

/**
 * The fields in the order the seed's tool asks for them, with the flag that gives each and, in
 * words, the rule the service's schema (ShippingDetailsBody) holds it to.
 */
export const SHIPPING_FIELDS: readonly { key: keyof ShippingDetails; label: string; flag: string; rule: string }[] = [
  { key: 'carrier', label: 'Carrier', flag: '--carrier', rule: "the carrier's name, 1 to 50 characters" },
  { key: 'trackingNumber', label: 'Tracking number', flag: '--tracking', rule: 'a tracking number of 4 to 50 letters, digits or hyphens' },
  { key: 'shipDate', label: 'Ship date (YYYY-MM-DD)', flag: '--ship-date', rule: 'a date written YYYY-MM-DD, such as 2026-11-25' },
  { key: 'contactName', label: 'Contact name', flag: '--contact-name', rule: 'a name of 1 to 100 characters' },
  { key: 'phone', label: 'Phone', flag: '--phone', rule: 'a phone number of 5 to 30 digits, spaces, +, ( ) or -' },
  { key: 'email', label: 'Email', flag: '--email', rule: 'an email address such as name@example.org' },
  { key: 'returnAddress', label: 'Return address', flag: '--return-address', rule: 'an address of 1 to 500 characters' },
  { key: 'country', label: 'Country (two letters, e.g. NL)', flag: '--country', rule: 'a country code of two capital letters, such as NL' },
  { key: 'postalCode', label: 'Postal code', flag: '--postal-code', rule: 'a postal code of 1 to 20 characters' },
];

/**
 * What is wrong with one answer, by the service's own schema, as a sentence; undefined when
 * the service will take it. Checked as each answer comes, so a typo is asked again at once,
 * not refused by the service after all nine answers and "yes" as `body/shipDate must match pattern …`.
 */
export function shippingProblem(key: keyof ShippingDetails, value: string): string | undefined {
  if (Value.Check(ShippingDetailsBody.properties[key], value)) return undefined;
  const field = SHIPPING_FIELDS.find((f) => f.key === key)!;
  return value === '' ? `${field.label} is needed: ${field.rule}` : `"${value}" is not ${field.rule}`;
}

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
  // Flags first, all of them, before a question is asked: a bad flag is the user's to fix in the command line.
  for (const field of SHIPPING_FIELDS) {
    const given = details[field.key];
    const problem = given ? shippingProblem(field.key, given) : undefined;
    if (problem) throw new DriveseedError('USAGE', `${field.flag}: ${problem}`, { field: field.key });
  }
  if (missing.length > 0 && !options.prompter.interactive) {
    throw new DriveseedError('USAGE', `shipping details need ${missing.map((f) => f.flag).join(', ')}`);
  }
  for (const field of missing) details[field.key] = await askField(options.prompter, field, previous?.[field.key]);
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

/** Asks until the answer is one the service takes (Enter keeps last time's, when there is one). */
async function askField(prompter: Prompter, field: (typeof SHIPPING_FIELDS)[number], before: string | undefined): Promise<string> {
  for (;;) {
    const answer = (await prompter.ask(`${field.label}${before ? ` [${before}]` : ''}: `)).trim() || before || '';
    const problem = shippingProblem(field.key, answer);
    if (!problem) return answer;
    prompter.say(`  ${problem}; please try again`);
  }
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
