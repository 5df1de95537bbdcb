import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { api, ApiError } from './api.js';

type Listener = (type: string, data: unknown) => void;

export interface Live {
  /** False while the stream is down (a service restart): the page shows a banner. */
  connected: boolean;
  /** Goes up on every (re)connection; pages refetch on it, so they show current state after a gap. */
  generation: number;
  subscribe(listener: Listener): () => void;
}

const LiveContext = createContext<Live>({ connected: true, generation: 0, subscribe: () => () => undefined });
const EVENT_TYPES = ['backup-job', 'import-job'];
const REOPEN_MS = 2000;

/**
 * One EventSource for the whole page. The browser reconnects it by itself after a network
 * error; when the service answered with an error instead (it was starting), it is reopened here.
 */
export function LiveProvider({ url, children }: { url: string; children: ReactNode }) {
  const [connected, setConnected] = useState(true);
  const [generation, setGeneration] = useState(0);
  const listeners = useRef(new Set<Listener>());

  useEffect(() => {
    let source: EventSource | undefined;
    let reopen: number | undefined;
    let stopped = false;
    const open = () => {
      source = new EventSource(url);
      source.onopen = () => {
        setConnected(true);
        setGeneration((g) => g + 1);
      };
      source.onerror = () => {
        setConnected(false);
        if (source?.readyState === EventSource.CLOSED && !stopped) {
          // Closed for good: find out whether the session ended (api() then shows sign-in) before trying again.
          api('GET', '/v1/session').catch(() => undefined);
          reopen = window.setTimeout(open, REOPEN_MS);
        }
      };
      for (const type of EVENT_TYPES) {
        source.addEventListener(type, (event) => {
          const data = JSON.parse((event as MessageEvent<string>).data) as unknown;
          listeners.current.forEach((fn) => fn(type, data));
        });
      }
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(reopen);
      source?.close();
    };
  }, [url]);

  const subscribe = useCallback((listener: Listener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  return <LiveContext.Provider value={{ connected, generation, subscribe }}>{children}</LiveContext.Provider>;
}

export function useLive(): Live {
  return useContext(LiveContext);
}

/** Calls `fn` for every live event of `type` while the component is shown. */
export function useLiveEvent<T>(type: string, fn: (data: T) => void): void {
  const live = useLive();
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => live.subscribe((t, data) => t === type && latest.current(data as T)), [live, type]);
}

export interface Resource<T> {
  data?: T;
  error?: ApiError;
  setData(data: T): void;
  reload(): void;
}

/** GETs `path`, again on every live (re)connection and on reload(). */
export function useResource<T>(path: string | undefined): Resource<T> {
  const { generation } = useLive();
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    let current = true;
    api<T>('GET', path).then(
      (value) => current && (setData(value), setError(undefined)),
      (e: unknown) => current && setError(e instanceof ApiError ? e : new ApiError(0, 'ERROR', String(e))),
    );
    return () => {
      current = false;
    };
  }, [path, generation, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, setData, reload };
}
