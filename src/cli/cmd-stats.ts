import { Command, Option } from 'commander';
import { byTime, findSnapshot } from '../core/repo/snapshot.js';
import { readableSnapshots } from '../core/repo/snapshot-reader.js';
import { rawData, restoreSize } from '../core/repo/snapshot-stats.js';
import { addRepoOptions, openRepository, printJson, warnDamagedFile, type RepoFlags } from './common.js';
import { formatBytes } from './progress.js';

interface StatsFlags extends RepoFlags {
  mode: 'restore-size' | 'raw-data';
  json?: boolean;
}

export default function statsCommand(): Command {
  return addRepoOptions(new Command('stats').description('how large the snapshots are: restored (restore-size), or as stored, deduplicated (raw-data)'))
    .argument('[snapshot]', 'one snapshot (an id, a unique prefix, or "latest"); default: all of them')
    .addOption(
      new Option('--mode <mode>', 'restore-size: files and bytes a restore writes; raw-data: the distinct blobs they need, stored and uncompressed')
        .choices(['restore-size', 'raw-data'])
        .default('restore-size'),
    )
    .option('--json', 'print as JSON')
    .action(async (ref: string | undefined, flags: StatsFlags) => {
      const repo = await openRepository(flags);
      for (const problem of await repo.loadIndex()) warnDamagedFile(problem);
      const all = (await readableSnapshots(repo, warnDamagedFile)).sort(byTime);
      const snapshots = ref === undefined ? all : [findSnapshot(all, ref)];
      if (flags.mode === 'raw-data') {
        const r = await rawData(repo, snapshots);
        const ratio = r.storedBytes > 0 ? r.rawBytes / r.storedBytes : 1;
        if (flags.json) return printJson({ mode: flags.mode, ...r, compressionRatio: Number(ratio.toFixed(3)) });
        console.log('stats in raw-data mode:');
        row('snapshots processed', String(r.snapshots));
        row('total blob count', `${r.blobs} (${r.dataBlobs} data, ${r.treeBlobs} tree)`);
        row('total uncompressed size', formatBytes(r.rawBytes));
        row('total size', formatBytes(r.storedBytes));
        row('compression ratio', `${ratio.toFixed(2)}x`);
        if (r.missing > 0) {
          row('missing blobs', String(r.missing));
          process.stderr.write(`warning: ${r.missing} blobs the snapshots name are not in the index; run \`driveseed check\`\n`);
        }
        return;
      }
      const s = await restoreSize(repo, snapshots);
      if (flags.json) return printJson({ mode: flags.mode, ...s });
      console.log('stats in restore-size mode:');
      row('snapshots processed', String(s.snapshots));
      row('total file count', String(s.files));
      row('total size', formatBytes(s.bytes));
    });
}

function row(label: string, value: string): void {
  console.log(`${label.padStart(24)}:  ${value}`);
}
