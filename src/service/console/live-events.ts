import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DriveseedError } from '../../core/errors.js';
import { CallerSlots } from '../http/caller-slots.js';

/** One poll of the database per open stream and second: any instance sees every instance's writes. */
export const POLL_MS = 1000;
/**
 * Streams one subscription (or the operator) may hold open at once: a console tab holds one.
 * Each polls the database every second (100 streams cost a third of a core), so one tenant's
 * streams must not be able to take the service's time from the others.
 */
export const DEFAULT_STREAMS_PER_CALLER = 8;
/** How soon a browser reconnects after the stream drops (a service restart, say). */
const RETRY_MS = 1000;

export interface LiveSource {
  /** Everything the stream watches, keyed `event:id`, each as the JSON its event would carry. */
  snapshot(): Promise<Map<string, unknown>>;
}

export interface LiveStreams {
  /** Answers the request with a server-sent event stream of what changes in `source`, counted against `caller`'s streams. */
  open(request: FastifyRequest, reply: FastifyReply, caller: string, source: LiveSource, headers: Record<string, string>): Promise<void>;
}

/**
 * Server-sent events by polling: each stream keeps the last JSON of every watched object and
 * sends an event (named after the key's prefix) when one changes. The browser's EventSource
 * reconnects by itself; the page refetches on every (re)connection, so nothing is missed.
 */
export function liveStreams(app: FastifyInstance, pollMs = POLL_MS, streamsPerCaller = DEFAULT_STREAMS_PER_CALLER): LiveStreams {
  const closers = new Set<() => void>();
  const slots = new CallerSlots(streamsPerCaller);
  // Open streams would keep a graceful shutdown waiting forever.
  app.addHook('preClose', async () => {
    for (const close of [...closers]) close();
  });

  return {
    async open(request, reply, caller, source, headers) {
      // Taken before the first await, so streams opened at the same moment cannot all pass.
      const uncount = slots.tryAcquire(caller);
      if (!uncount)
        throw new DriveseedError('BUSY', `${streamsPerCaller} live event streams are open for these credentials already; close one (a console tab) first`);
      let seen: Map<string, string>;
      try {
        seen = serialize(await source.snapshot());
      } catch (e) {
        uncount();
        throw e;
      }
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...headers,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write(`retry: ${RETRY_MS}\n\n`);
      let timer: NodeJS.Timeout | undefined;
      const close = () => {
        clearTimeout(timer);
        closers.delete(close);
        uncount();
        if (!raw.writableEnded) raw.end();
      };
      closers.add(close);
      request.raw.once('close', close);
      // Gone while the first snapshot was taken: 'close' came before anyone listened, and the slot must not stay taken.
      if (raw.destroyed) return close();
      const tick = async () => {
        try {
          const now = serialize(await source.snapshot());
          for (const [key, json] of now) {
            if (seen.get(key) !== json) raw.write(`event: ${key.slice(0, key.indexOf(':'))}\ndata: ${json}\n\n`);
          }
          seen = now;
          // A comment line each tick: a dead connection is noticed by both ends within a second.
          raw.write(': tick\n\n');
        } catch (e) {
          request.log.warn({ err: e }, 'live events: poll failed; closing the stream, the browser reconnects');
          return close();
        }
        if (closers.has(close)) timer = setTimeout(tick, pollMs);
      };
      timer = setTimeout(tick, pollMs);
    },
  };
}

function serialize(snapshot: Map<string, unknown>): Map<string, string> {
  return new Map([...snapshot].map(([key, value]) => [key, JSON.stringify(value)]));
}
