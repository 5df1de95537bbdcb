import { connect, createServer, type Server, type Socket } from 'node:net';

export interface LinkOptions extends LinkShape {
  /** `http://host:port` of the server behind the link. */
  target: string;
  /** Which requests `stats.requests` counts, by their request line (`PUT /path HTTP/1.1`); default all. */
  countsRequest?: (requestLine: string) => boolean;
}

export interface LinkShape {
  /** One-way delay of every chunk, each direction. */
  latencyMs: number;
  /** Bandwidth cap client→server; undefined = unlimited. */
  upBytesPerSecond?: number;
  /** Bandwidth cap server→client; undefined = unlimited. */
  downBytesPerSecond?: number;
}

export interface LinkStats {
  /** Bytes the client sent through the link (client→server), headers included. */
  bytesUp: number;
  /** Bytes the client received through the link (server→client), headers included. */
  bytesDown: number;
  connections: number;
  /** HTTP/1.1 requests the client started, counted by reading the client→server stream. */
  requests: number;
}

export interface Link {
  /** Put this in the client's service URL instead of the target's. */
  url: string;
  stats: LinkStats;
  /** Sets every counter back to zero, to measure one operation. */
  resetStats(): void;
  /** Changes the latency and caps for the chunks sent from now on (a fast first backup, then a thin link). */
  shape(shape: LinkShape): void;
  close(): Promise<void>;
}

/** Bytes queued in one direction of one connection before the sender is paused. */
const QUEUE_HIGH_WATER = 1 << 20;

/**
 * For tests and benches: a TCP proxy on loopback that behaves like a long, thin link (the
 * kernel's netem is not available here). Each direction is one shared pipe: a chunk occupies
 * it for length/cap seconds after the chunks before it, and arrives `latencyMs` after it
 * left, so a request and its answer cost at least two latencies and a download of N bytes at
 * least N/cap. Counts bytes each way, connections and HTTP requests.
 */
export async function startLink(options: LinkOptions): Promise<Link> {
  const target = new URL(options.target);
  const stats: LinkStats = { bytesUp: 0, bytesDown: 0, connections: 0, requests: 0 };
  const up = new Direction(options.latencyMs, options.upBytesPerSecond);
  const down = new Direction(options.latencyMs, options.downBytesPerSecond);
  const sockets = new Set<Socket>();
  // Half-open sockets, so a client that ends its side still gets the answer.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    stats.connections++;
    const upstream = connect({ port: Number(target.port), host: target.hostname, allowHalfOpen: true });
    const requests = new HttpRequestStarts((line) => {
      if (options.countsRequest?.(line) ?? true) stats.requests++;
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    relay(client, upstream, up, (chunk) => {
      stats.bytesUp += chunk.length;
      requests.scan(chunk);
    });
    relay(upstream, client, down, (chunk) => (stats.bytesDown += chunk.length));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    stats,
    shape: (shape) => {
      up.shape(shape.latencyMs, shape.upBytesPerSecond);
      down.shape(shape.latencyMs, shape.downBytesPerSecond);
    },
    resetStats: () => Object.assign(stats, { bytesUp: 0, bytesDown: 0, connections: 0, requests: 0 }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One direction of the link: when the pipe is free again, and how long a chunk takes on it. */
class Direction {
  private freeAt = 0;

  constructor(
    private latencyMs: number,
    private bytesPerSecond: number | undefined,
  ) {}

  shape(latencyMs: number, bytesPerSecond: number | undefined): void {
    this.latencyMs = latencyMs;
    this.bytesPerSecond = bytesPerSecond;
  }

  /** The time (ms, performance clock) at which a chunk sent now arrives at the far end. */
  arrival(length: number): number {
    const start = Math.max(performance.now(), this.freeAt);
    this.freeAt = start + (this.bytesPerSecond ? (length * 1000) / this.bytesPerSecond : 0);
    return this.freeAt + this.latencyMs;
  }
}

/**
 * Moves chunks from one socket to the other through a direction, in order. Arrival times
 * grow with every chunk, so one timer at a time, for the head of the queue, keeps the order.
 */
function relay(from: Socket, to: Socket, direction: Direction, onChunk: (chunk: Buffer) => void): void {
  const queue: { chunk: Buffer; at: number }[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const deliver = () => {
    timer = undefined;
    while (queue.length > 0 && queue[0].at <= performance.now()) {
      const { chunk } = queue.shift()!;
      queued -= chunk.length;
      if (!to.destroyed) to.write(chunk);
    }
    if (queued < QUEUE_HIGH_WATER && from.isPaused()) from.resume();
    if (queue.length > 0) timer = setTimeout(deliver, Math.max(0, queue[0].at - performance.now()));
    else if (ended) to.end();
  };
  from.on('data', (chunk: Buffer) => {
    onChunk(chunk);
    queue.push({ chunk, at: direction.arrival(chunk.length) });
    queued += chunk.length;
    if (queued >= QUEUE_HIGH_WATER) from.pause();
    timer ??= setTimeout(deliver, Math.max(0, queue[0].at - performance.now()));
  });
  // What was sent before the sender ended still arrives, then the far end sees the end.
  from.on('end', () => {
    ended = true;
    if (queue.length === 0 && !timer && !to.destroyed) to.end();
  });
}

/**
 * Finds where each HTTP/1.1 request starts in a client→server byte stream: a header block up
 * to the blank line, then a body by content-length or chunked encoding. Enough for the
 * requests node's HTTP clients send; not a validating parser.
 */
class HttpRequestStarts {
  private pending: Buffer = Buffer.alloc(0);
  private bodyLeft = 0;
  private chunked = false;

  constructor(private readonly onRequest: (requestLine: string) => void) {}

  scan(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.step());
  }

  /** Consumes one piece (a body part, a chunk-size line or a header block); false when it needs more bytes. */
  private step(): boolean {
    if (this.bodyLeft > 0) {
      const n = Math.min(this.bodyLeft, this.pending.length);
      this.pending = this.pending.subarray(n);
      this.bodyLeft -= n;
      return this.pending.length > 0;
    }
    if (this.chunked) return this.chunkSizeLine();
    const end = this.pending.indexOf('\r\n\r\n');
    if (end < 0) return false;
    const head = this.pending.subarray(0, end).toString('latin1');
    const headers = head.toLowerCase();
    this.pending = this.pending.subarray(end + 4);
    const lineEnd = head.indexOf('\r\n');
    this.onRequest(lineEnd < 0 ? head : head.slice(0, lineEnd));
    this.chunked = /\r\ntransfer-encoding:[^\r]*chunked/.test(headers);
    this.bodyLeft = this.chunked ? 0 : Number(/\r\ncontent-length:\s*(\d+)/.exec(headers)?.[1] ?? 0);
    return this.pending.length > 0;
  }

  /** One chunk's size line; size 0 ends the body (its trailer is the empty line after it). */
  private chunkSizeLine(): boolean {
    const end = this.pending.indexOf('\r\n');
    if (end < 0) return false;
    const size = parseInt(this.pending.subarray(0, end).toString('latin1'), 16);
    if (size === 0) {
      const trailerEnd = this.pending.indexOf('\r\n\r\n', end);
      if (trailerEnd < 0) return false;
      this.pending = this.pending.subarray(trailerEnd + 4);
      this.chunked = false;
    } else {
      this.pending = this.pending.subarray(end + 2);
      this.bodyLeft = size + 2; // the chunk and its CRLF
    }
    return this.pending.length > 0;
  }
}
