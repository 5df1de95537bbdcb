import type { PolicyDocument } from '../../api/schemas.js';
import { DriveseedError } from '../../core/errors.js';
import type { OfflinePolicy, Policy } from './agent-config.js';

/** The version of the policy document this agent writes and reads (docs/policy-document.md). */
export const POLICY_DOCUMENT_VERSION = 1;

/** The agent's time zone, as its schedule and retention days are read in it (TZ, else the system's). */
export function agentTimeZone(): string | undefined {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
}

/** The whole policy for the vault: what a machine recovering this server needs to carry on as it did. */
export function policyDocument(policy: Policy, timeZone = agentTimeZone()): PolicyDocument {
  return { version: POLICY_DOCUMENT_VERSION, policy: { ...policy }, ...(timeZone ? { timeZone } : {}) };
}

/**
 * The policy a document holds, checked field by field: it comes from the vault, and its hooks
 * and items are commands this machine will run. A version this agent does not know is refused
 * rather than half read.
 */
export function readPolicyDocument(document: PolicyDocument): Policy {
  if (document.version !== POLICY_DOCUMENT_VERSION)
    throw new DriveseedError(
      'UNSUPPORTED_VERSION',
      `the vault's policy document is version ${document.version}; this agent reads version ${POLICY_DOCUMENT_VERSION}`,
      {
        hint: 'install the driveseed version that wrote it, or newer',
      },
    );
  const p = document.policy;
  const policy: Policy = { paths: stringList(p.paths, 'paths'), excludes: stringList(p.excludes ?? [], 'excludes') };
  if (policy.paths.some((path) => !path.startsWith('/'))) fail('paths', 'holds a path that is not absolute');
  if (p.schedule !== undefined) policy.schedule = text(p.schedule, 'schedule');
  if (p.limitUpload !== undefined) policy.limitUpload = positive(p.limitUpload, 'limitUpload');
  if (p.preHook !== undefined) policy.preHook = text(p.preHook, 'preHook');
  if (p.postHook !== undefined) policy.postHook = text(p.postHook, 'postHook');
  if (p.items !== undefined) {
    if (!Array.isArray(p.items)) fail('items', 'is not a list');
    policy.items = (p.items as unknown[]).map((item, i) => {
      const it = object(item, `items[${i}]`);
      return { name: text(it.name, `items[${i}].name`), command: text(it.command, `items[${i}].command`) };
    });
  }
  if (p.offline !== undefined) policy.offline = offlineOf(object(p.offline, 'offline'));
  if (p.retention !== undefined) policy.retention = retentionOf(object(p.retention, 'retention'));
  return policy;
}

function offlineOf(o: Record<string, unknown>): OfflinePolicy {
  return {
    staging: text(o.staging, 'offline.staging'),
    jobName: text(o.jobName, 'offline.jobName'),
    storageAccount: text(o.storageAccount, 'offline.storageAccount'),
    container: text(o.container, 'offline.container'),
    ...(o.healLimit !== undefined ? { healLimit: positive(o.healLimit, 'offline.healLimit') } : {}),
    ...(o.seeded !== undefined ? { seeded: o.seeded === true } : {}),
  };
}

function retentionOf(r: Record<string, unknown>): NonNullable<Policy['retention']> {
  const out: NonNullable<Policy['retention']> = {};
  for (const rule of ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const)
    if (r[rule] !== undefined) out[rule] = positive(r[rule], `retention.${rule}`);
  if (r.within !== undefined) out.within = text(r.within, 'retention.within');
  if (r.tags !== undefined) out.tags = stringList(r.tags, 'retention.tags');
  return out;
}

function fail(field: string, what: string): never {
  throw new DriveseedError('CORRUPT', `the vault's policy document: ${field} ${what}`, { hint: 'set the policy again with `agent protect`' });
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'is not an object');
  return value as Record<string, unknown>;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') fail(field, 'is not a text');
  return value;
}

function positive(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(field, 'is not a positive whole number');
  return value;
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) fail(field, 'is not a list of texts');
  return value as string[];
}
