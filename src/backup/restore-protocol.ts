/** Messages between the restorer (main thread) and its worker threads. */
export interface RestoreWorkerInit {
  encryption: Uint8Array;
  mac: Uint8Array;
}

export interface RestoreJob {
  job: number;
  id: string;
  sealed: Uint8Array;
  fd: number;
  offset: number;
}

export interface RestoreReply {
  job: number;
  bytes?: number;
  error?: string;
}
