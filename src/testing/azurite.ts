import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Azurite's documented development account: public, not a secret. */
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  connectionString: string;
  /** Azurite's process, for benches that count its CPU time. */
  pid: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface AzuriteOptions {
  /**
   * Blob bodies in Azurite's memory instead of extent files in a temp dir. Benches use it to
   * show what Azurite's own disk writes cost when it shares the machine's cores with the
   * agent, which real blob storage never does.
   */
  inMemory?: boolean;
}

/**
 * Starts a real Azurite blob service (the npm package) on a free loopback port with its
 * data in a temp dir. Telemetry off: these machines have no internet.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const location = await mkdtemp(join(tmpdir(), 'azurite-'));
  const port = await freePort();
  const bin = join(dirname(createRequire(import.meta.url).resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
  // Azurite refuses --location together with --inMemoryPersistence.
  const storage = options.inMemory ? ['--inMemoryPersistence'] : ['--location', location];
  const child: ChildProcess = spawn(
    process.execPath,
    [bin, '--blobHost', '127.0.0.1', '--blobPort', String(port), ...storage, '--disableTelemetry', '--skipApiVersionCheck', '--silent', '--loose'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`azurite did not start in 30 s: ${output}`)), 30_000);
    const done = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
    };
    const fail = (e: Error) => {
      done();
      child.kill('SIGKILL');
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/successfully listen/.test(output)) {
        done();
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => fail(new Error(`azurite exited with ${code}: ${output}`)));
  });
  // Keep draining its output so a chatty Azurite never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    pid: child.pid!,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:${port}/${ACCOUNT};`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      await rm(location, { recursive: true, force: true });
    },
  };
}
