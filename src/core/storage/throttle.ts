import { pipeline, Transform, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { blobDataLength, type BlobData, type BlobStore, type ByteRange, type LocalPaths, type SignedBlobUrls, type StreamingReads } from './blob-store.js';
import { ForwardingStore } from './forwarding.js';

/** A token bucket: bytes may be sent at `rate` per second, with one second of burst. */
class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly rate: number) {
    this.tokens = rate;
  }

  /** Waits until `bytes` may go; requests are served in order so a big put cannot starve. */
  take(bytes: number): Promise<void> {
    const turn = this.queue.then(() => this.wait(bytes));
    this.queue = turn;
    return turn;
  }

  private async wait(bytes: number): Promise<void> {
    this.refill();
    this.tokens -= bytes;
    if (this.tokens < 0) await sleep((-this.tokens / this.rate) * 1000);
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }
}

/**
 * Limits the bandwidth of puts (and optionally gets): what users of a thin link set with
 * --limit-upload. No capability may carry bytes past the limits: a streamed read is metered
 * chunk by chunk against the download limit; a local path is passed on only while downloads
 * are unlimited, since whoever opens the file reads beyond any meter; signed URLs are
 * withheld, since their transfers happen where no bucket sees them.
 */
export class ThrottleStore extends ForwardingStore {
  private readonly up?: TokenBucket;
  private readonly down?: TokenBucket;

  constructor(inner: BlobStore, limits: { uploadBytesPerSecond?: number; downloadBytesPerSecond?: number }) {
    super(inner);
    if (limits.uploadBytesPerSecond) this.up = new TokenBucket(limits.uploadBytesPerSecond);
    if (limits.downloadBytesPerSecond) this.down = new TokenBucket(limits.downloadBytesPerSecond);
  }

  override async get(name: string, range?: ByteRange): Promise<Buffer> {
    const data = await this.inner.get(name, range);
    await this.down?.take(data.length);
    return data;
  }

  override async put(name: string, data: BlobData): Promise<void> {
    await this.up?.take(blobDataLength(data));
    await this.inner.put(name, data);
  }

  override readStreams(): StreamingReads | undefined {
    const inner = super.readStreams();
    const down = this.down;
    if (!inner || !down) return inner;
    return {
      openRead: async (name, range) => {
        const reader = await inner.openRead(name, range);
        return { length: reader.length, stream: metered(reader.stream, down) };
      },
    };
  }

  override localPaths(): LocalPaths | undefined {
    return this.down ? undefined : super.localPaths();
  }

  override urlSigner(): SignedBlobUrls | undefined {
    return undefined;
  }
}

/** Passes a stream's chunks on as the bucket lets them go: a long download keeps to the rate all the way, not just on average. */
function metered(source: Readable, bucket: TokenBucket): Readable {
  const out = new Transform({
    transform: (chunk: Buffer, _encoding, done) => {
      bucket.take(chunk.length).then(() => done(null, chunk), done);
    },
  });
  // pipeline passes a failed read on to `out` (its reader sees the error) and closes the source when `out` is destroyed early.
  pipeline(source, out, () => undefined);
  return out;
}
