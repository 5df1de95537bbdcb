/*
 * Runs one backup in a process of its own and prints its peak RSS, so that a test can hold
 * the archiver to a memory ceiling without the test runner's own heap in the figure.
 *
 *   node dist/src/testing/backup-peak-rss.js REPO_DIR PASSWORD PATH
 * prints {"peakRssKb": n, "tree": id, "filesUnchanged": n}
 */
import { backup } from '../core/backup/archiver.js';
import { Repository } from '../core/repo/repository.js';
import { FsStore } from '../core/storage/fs/fs-store.js';

const [repoDir, password, path] = process.argv.slice(2);
const repo = await Repository.open(new FsStore(repoDir), password);
await repo.loadIndex();
const result = await backup(repo, { paths: [path], threads: 2 });
// maxRSS is the kernel's high-water mark of the whole process, worker threads included.
process.stdout.write(JSON.stringify({ peakRssKb: process.resourceUsage().maxRSS, tree: result.snapshot.tree, filesUnchanged: result.summary.filesUnchanged }));
