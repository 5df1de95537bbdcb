import { mapLimited } from '../../core/util/semaphore.js';
import { Readable } from 'node:stream';
import { contentCheck, contentMatchesId } from '../../core/repo/ids.js';
import { expectedContentHash, isLockFile } from '../../core/repo/layout.js';
import { readStreamsOf, writeStreamsOf, type BlobInfo, type BlobStore } from '../../core/storage/blob-store.js';
import { containerStore } from '../accounts/storage-accounts.js';
import type { Db } from '../db/open-database.js';
import { DriveseedError } from '../../core/errors.js';
import type { SeedCopy } from '../../api/schemas.js';
import { importSettled } from '../../api/contract.js';

const PARALLEL_COPIES = 4;

/**
 * Seed completion, the service's half: copies an import job's container into a server's
 * repository inside the service (the agent's link carries none of it). Every
 * content-addressed file is verified against its name on the way, so a file damaged on a
 * drive or in the container is reported, never copied. Files already in the vault with the
 * same size are skipped, which makes a rerun after a kill continue where it stopped. Files
 * are streamed where both stores allow it (copyVerified).
 */
export async function copySeed(db: Db, blobs: BlobStore, subscriptionId: string, jobName: string, vaultRepository: BlobStore): Promise<SeedCopy> {
  const job = await db.selectFrom('import_jobs').selectAll().where('subscription_id', '=', subscriptionId).where('name', '=', jobName).executeTakeFirst();
  if (!job) throw new DriveseedError('NOT_FOUND', `no import job ${jobName}`);
  const drives = await db.selectFrom('import_drives').select('state').where('job_id', '=', job.id).execute();
  // A drive that never arrived does not hold the seed up: what it carried is healed over the network.
  if (!importSettled({ state: job.state, drives })) {
    throw new DriveseedError('CONFLICT', `import job ${jobName} is ${job.state}; its data is not imported yet`, { field: 'state' });
  }
  const source = containerStore(blobs, job.storage_account, job.container);
  const present = new Map<string, number>();
  for await (const info of vaultRepository.list('')) present.set(info.name, info.size);

  if (present.has('config') && !(await source.get('config')).equals(await vaultRepository.get('config'))) {
    throw new DriveseedError(
      'CONFLICT',
      `this server's vault repository is not the one import job ${jobName} seeded; a seed only goes into an empty repository or its own`,
      { field: 'importJob' },
    );
  }
  const result: SeedCopy = { importJob: jobName, copied: 0, skipped: 0, bytesCopied: 0, damaged: [] };
  const work: BlobInfo[] = [];
  for await (const info of source.list('')) {
    if (isLockFile(info.name)) continue;
    if (present.get(info.name) === info.size) result.skipped++;
    else work.push(info);
  }
  const copyOne = async (info: BlobInfo) => {
    const copied = await copyVerified(source, vaultRepository, info.name);
    if (copied === 'damaged') {
      result.damaged.push(info.name);
      return;
    }
    result.copied++;
    result.bytesCopied += copied;
  };
  // The config (what makes a folder a repository) goes last, so a half-copied seed never looks complete.
  work.sort((a, b) => Number(a.name === 'config') - Number(b.name === 'config'));
  const last = work.at(-1)?.name === 'config' ? work.pop() : undefined;
  await mapLimited(work, PARALLEL_COPIES, copyOne);
  if (last) await copyOne(last);
  result.damaged.sort();
  return result;
}

/**
 * Copies one file, checked against the name that promises its hash. When the source streams
 * reads and the vault streams writes (a local blob directory does both), the bytes go by in
 * parts and are hashed on the way: a few MiB held per copy, however large the file, and a
 * file that does not match leaves nothing in the vault. Otherwise it is read whole.
 * Resolves to the bytes copied, or 'damaged'.
 */
export async function copyVerified(source: BlobStore, target: BlobStore, name: string): Promise<number | 'damaged'> {
  const expected = expectedContentHash(name);
  const reads = readStreamsOf(source);
  const writes = writeStreamsOf(target);
  if (!reads || !writes) {
    const data = await source.get(name);
    if (expected && !contentMatchesId(data, expected)) return 'damaged';
    await target.put(name, data);
    return data.length;
  }
  const { length, stream } = await reads.openRead(name);
  try {
    await writes.putStream(name, Readable.from(checkedOnTheWay(stream, name, expected)));
  } catch (e) {
    if (e instanceof ContentMismatch) return 'damaged';
    throw e;
  }
  return length;
}

class ContentMismatch extends DriveseedError {}

/** The stream's parts as they come, failing at its end when they do not hash to `expected`. */
async function* checkedOnTheWay(stream: AsyncIterable<Buffer>, name: string, expected: string | undefined): AsyncGenerator<Buffer> {
  const check = expected ? contentCheck() : undefined;
  for await (const part of stream) {
    check?.update(part);
    yield part;
  }
  if (expected && !check!.matches(expected)) throw new ContentMismatch('CORRUPT', `${name}: content does not match its name`);
}
