/** Messages between the archiver (main thread) and its chunk workers. */
export interface WorkerInit {
  encryption: Uint8Array;
  mac: Uint8Array;
  chunkerSeed: Uint8Array;
  level: number;
}

export interface FileJob {
  path: string;
}

/** main → worker */
export type ToWorker =
  | { kind: 'task'; task: number; files: FileJob[] }
  | { kind: 'want'; task: number; want: boolean[] };

export interface SealedBlobMessage {
  id: string;
  sealed: Uint8Array;
  rawLength: number;
}

export interface FileResult {
  content: string[];
  size: number;
  error?: string;
}

/** worker → main */
export type FromWorker =
  | { kind: 'query'; task: number; ids: string[] }
  | { kind: 'blobs'; task: number; blobs: SealedBlobMessage[] }
  | { kind: 'done'; task: number; results: FileResult[] };
