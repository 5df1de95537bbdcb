import type { Db } from '../db/open-database.js';

/**
 * Which other job holds a tracking number, if any: one package carries one job's drives,
 * import or export alike, so a number is checked against both kinds of job.
 */
export async function jobHoldingTrackingNumber(
  db: Db,
  trackingNumber: string,
  except: { kind: 'import' | 'export'; id: string },
): Promise<'import' | 'export' | undefined> {
  for (const kind of ['import', 'export'] as const) {
    let query = db
      .selectFrom(kind === 'import' ? 'import_jobs' : 'export_jobs')
      .select('name')
      .where('tracking_number', '=', trackingNumber);
    if (kind === except.kind) query = query.where('id', '!=', except.id);
    if (await query.executeTakeFirst()) return kind;
  }
  return undefined;
}
