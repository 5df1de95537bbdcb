import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DriveseedError } from '../errors.js';
import type { SealReply, SealRequest } from './seal-worker.js';

/** Worker threads that copy staged files onto a drive, one file per request, one thread per core. */
export class SealPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  private nextId = 0;

  constructor(private readonly size = Math.max(1, availableParallelism())) {}

  async seal(request: Omit<SealRequest, 'id'>): Promise<string[]> {
    const worker = await this.take();
    try {
      const id = this.nextId++;
      const reply = await new Promise<SealReply>((resolve, reject) => {
        const onMessage = (message: SealReply) => {
          if (message.id !== id) return;
          worker.off('message', onMessage);
          worker.off('error', reject);
          resolve(message);
        };
        worker.on('message', onMessage);
        worker.once('error', reject);
        worker.postMessage({ ...request, id } satisfies SealRequest);
      });
      if ('error' in reply) {
        if (reply.code === 'ENOSPC') throw new DriveseedError('IO', `drive ${request.target} is full`, { hint: 'give a smaller --capacity, or another drive' });
        throw new DriveseedError('IO', reply.error);
      }
      return reply.blocks;
    } finally {
      this.give(worker);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }

  private take(): Promise<Worker> {
    const ready = this.idle.pop();
    if (ready) return Promise.resolve(ready);
    if (this.all.length < this.size) {
      const worker = new Worker(new URL('./seal-worker.js', import.meta.url));
      worker.unref();
      this.all.push(worker);
      return Promise.resolve(worker);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private give(worker: Worker): void {
    const next = this.waiting.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }
}
