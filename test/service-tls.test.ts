import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareTrees } from '../src/core/backup/compare-trees.js';
import { signClientAssertion } from '../src/core/certificates/certificates.js';
import { createSelfSignedCertificate } from '../src/core/certificates/certificate-factory.js';
import { ServiceClient } from '../src/api/service-client.js';
import { startService } from '../src/service/start-service.js';
import { CLIENT_ASSERTION_TYPE } from '../src/api/contract.js';
import { createLoopbackServerCertificate } from '../src/testing/tls-certificate.js';
import { cli, tempDir } from './cli-harness.js';
import { setUpAgent } from './service-harness.js';

describe('the service over HTTPS, and behind a TLS-terminating proxy', () => {
  it('an agent registers, backs up and restores over HTTPS; a client that does not trust the certificate gets one clear line', async (t) => {
    const dir = await tempDir(t, 'tls-');
    const tls = await createLoopbackServerCertificate();
    const certFile = join(dir, 'service.crt');
    const keyFile = join(dir, 'service.key');
    await writeFile(certFile, tls.cert);
    await writeFile(keyFile, tls.key, { mode: 0o600 });
    const s = await setUpAgent(t, { https: true, extra: ['--tls-cert', certFile, '--tls-key', keyFile], env: { NODE_EXTRA_CA_CERTS: certFile } });
    assert.match(s.url, /^https:/);
    assert.equal(cli(['agent', 'protect', s.data], s.env).code, 0);
    const backup = cli(['agent', 'backup-now', '--json'], s.env);
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(JSON.parse(backup.stdout).state, 'Completed');
    const target = join(s.dir, 'restore');
    assert.equal(cli(['agent', 'restore', 'latest', '--target', target], s.env).code, 0);
    assert.deepEqual(await compareTrees(s.data, join(target, s.data)), []);

    // Without the CA: one clear line and its hint, at once, for a status and for a backup alike (no retries).
    for (const command of [
      ['agent', 'status'],
      ['agent', 'backup-now'],
    ]) {
      const untrusting = cli(command, { DRIVESEED_HOME: s.env.DRIVESEED_HOME });
      assert.equal(untrusting.code, 1, untrusting.stderr);
      assert.match(untrusting.stderr, /presented a certificate this machine does not trust: self-signed certificate/);
      assert.match(untrusting.stderr, /NODE_EXTRA_CA_CERTS/);
      assert.doesNotMatch(untrusting.stderr, /failed \d+ times/);
    }
  });

  it("refuses to start with half a TLS configuration or a key that is not the certificate's", async (t) => {
    const dir = await tempDir(t, 'tls-');
    const one = await createLoopbackServerCertificate();
    const other = await createLoopbackServerCertificate();
    await writeFile(join(dir, 'one.crt'), one.cert);
    await writeFile(join(dir, 'other.key'), other.key);
    const base = ['service', 'start', '--data-dir', join(dir, 'svc'), '--listen', '127.0.0.1:0'];
    const half = cli([...base, '--tls-cert', join(dir, 'one.crt')]);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /needs both --tls-cert and --tls-key/);
    const mismatched = cli([...base, '--tls-cert', join(dir, 'one.crt'), '--tls-key', join(dir, 'other.key')]);
    assert.equal(mismatched.code, 2);
    assert.match(mismatched.stderr, /do not work together/);
    const missing = cli([...base, '--tls-cert', join(dir, 'none.crt'), '--tls-key', join(dir, 'other.key')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read the TLS certificate .*none\.crt: ENOENT/);
  });

  it('behind a trusted proxy, an assertion for the public https address is accepted; from anyone else, refused', async (t) => {
    const dir = await tempDir(t, 'proxy-');
    const start = (trustProxy?: string) => startService({ dataDir: join(dir, `trusting-${trustProxy ?? 'none'}`), listen: '127.0.0.1:0', trustProxy });
    for (const [trustProxy, expected] of [
      ['127.0.0.1', 200],
      [undefined, 401],
      ['10.1.2.3', 401],
    ] as const) {
      const service = await start(trustProxy);
      try {
        const owner = new ServiceClient(service.url, { ownerKey: service.bootstrap!.ownerKey });
        const certificate = await createSelfSignedCertificate('behind-proxy', 30);
        const app = await owner.createApplication(service.bootstrap!.subscriptionId, { name: 'behind-proxy', certificate: certificate.certificatePem });
        // The agent knows the service as https://backup.example.com, and signs for that address.
        const assertion = await signClientAssertion(app.id, 'https://backup.example.com/v1/token', certificate);
        const response = await fetch(`${service.url}/v1/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'backup.example.com' },
          body: JSON.stringify({
            grant_type: 'client_credentials',
            client_id: app.id,
            client_assertion_type: CLIENT_ASSERTION_TYPE,
            client_assertion: assertion,
          }),
        });
        assert.equal(response.status, expected, `trust proxy ${trustProxy}: ${await response.text()}`);
      } finally {
        await service.stop();
      }
    }
  });
});
