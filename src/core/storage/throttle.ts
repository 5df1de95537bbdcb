import { pipeline, Transform, type Readable } from 'node:stream';
import { realClock, TokenBucket, type BucketClock } from '../util/token-bucket.js';
import { withDownloadPacing, withUploadPacing } from '../util/transfer-pacing.js';
import { blobDataLength, type BlobData, type BlobStore, type ByteRange, type LocalPaths, type SignedBlobUrls, type StreamingReads } from './blob-store.js';
import { ForwardingStore } from './forwarding.js';

/** A ranged download is asked for in ranges of this many pieces of the bucket (0.05 s each): half a second. */
const PIECES_PER_RANGE = 10;
/** Ranges smaller than this cost more in round trips than they meter. */
const MIN_RANGE_PIECE = 64 * 1024;

/** A limit: bytes per second at all times, or by the time (a RateSchedule's rateAt: undefined is no limit then). */
export type RateLimit = number | ((at: Date) => number | undefined);

export interface ThrottleLimits {
  uploadBytesPerSecond?: RateLimit;
  downloadBytesPerSecond?: RateLimit;
  clock?: BucketClock;
}

function bucketOf(limit: RateLimit | undefined, clock: BucketClock): TokenBucket | undefined {
  if (limit === undefined || limit === 0) return undefined;
  return new TokenBucket(typeof limit === 'number' ? () => limit : limit, clock);
}

/**
 * Limits the bandwidth of puts (and optionally gets): what users of a thin link set with
 * --limit-upload and --limit-download. The bytes are metered as the transport underneath
 * sends or receives them (transfer-pacing.ts), in steps of a twentieth of a second, so no
 * second carries more than the limit; what a transport does not meter is metered after its
 * call, so the average holds for every store. No capability may carry bytes past the limits: a streamed read is metered
 * chunk by chunk against the download limit; a local path is passed on only while downloads
 * are unlimited, since whoever opens the file reads beyond any meter; signed URLs are
 * withheld, since their transfers happen where no bucket sees them.
 */
export class ThrottleStore extends ForwardingStore {
  private readonly up?: TokenBucket;
  private readonly down?: TokenBucket;

  constructor(inner: BlobStore, limits: ThrottleLimits) {
    super(inner);
    const clock = limits.clock ?? realClock;
    this.up = bucketOf(limits.uploadBytesPerSecond, clock);
    this.down = bucketOf(limits.downloadBytesPerSecond, clock);
  }

  override async get(name: string, range?: ByteRange): Promise<Buffer> {
    const down = this.down;
    if (!down) return this.inner.get(name, range);
    const piece = Math.max(MIN_RANGE_PIECE, down.pieceSize() * PIECES_PER_RANGE);
    if (range && range.length > piece) return this.getInPieces(down, name, range, piece);
    const { value, paced } = await withDownloadPacing(down, () => this.inner.get(name, range));
    if (value.length > paced) await down.take(value.length - paced);
    return value;
  }

  /**
   * A large range (the restorer reads packs by the megabyte) as ranges of about half a second
   * each, each asked for only once the bucket lets its bytes come, two in flight. Metering the
   * answer as it arrives is not enough for downloads: the sender fills the socket buffers on
   * both ends (megabytes on a fast path) before the reader's pauses hold it back.
   */
  private async getInPieces(down: TokenBucket, name: string, range: ByteRange, piece: number): Promise<Buffer> {
    const parts: Promise<Buffer>[] = [];
    const inFlight: Promise<Buffer>[] = [];
    for (let at = 0; at < range.length; at += piece) {
      const length = Math.min(piece, range.length - at);
      if (inFlight.length >= 2) await inFlight.shift();
      await down.take(length);
      const part = this.inner.get(name, { offset: range.offset + at, length });
      // Its failure is reported by Promise.all below; meanwhile it must not count as unhandled.
      part.catch(() => undefined);
      parts.push(part);
      inFlight.push(part);
    }
    return Buffer.concat(await Promise.all(parts));
  }

  override async put(name: string, data: BlobData): Promise<void> {
    const up = this.up;
    if (!up) return this.inner.put(name, data);
    const { paced } = await withUploadPacing(up, () => this.inner.put(name, data));
    const length = blobDataLength(data);
    if (length > paced) await up.take(length - paced);
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
