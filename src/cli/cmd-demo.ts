import { Command } from 'commander';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runDemo } from './demo-workflow.js';

export default function demoCommand(): Command {
  return new Command('demo')
    .description('run the whole offline-seeding workflow end to end on the embedded defaults and verify the restore byte for byte')
    .option('--workdir <dir>', 'where to put service, agent, staging, drives and restore (default: a new temp dir)')
    .option('--data <dir>', 'back up this directory instead of a generated one')
    .option('--keep', 'keep the work dir afterwards')
    .action(async (flags: { workdir?: string; data?: string; keep?: boolean }) => {
      const work = flags.workdir ? resolve(flags.workdir) : await mkdtemp(join(tmpdir(), 'driveseed-demo-'));
      await mkdir(work, { recursive: true });
      try {
        await runDemo(work, flags.data ? resolve(flags.data) : undefined);
      } finally {
        if (!flags.keep && !flags.workdir) await rm(work, { recursive: true, force: true });
      }
    });
}
