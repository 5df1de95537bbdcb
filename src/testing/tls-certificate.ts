import { randomBytes, webcrypto } from 'node:crypto';
// First: it loads the metadata polyfill that @peculiar/x509 needs, and sets its crypto provider.
import { privateKeyPem } from '../agent/certificate-factory.js';
import * as x509 from '@peculiar/x509';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/**
 * A self-signed TLS server certificate for loopback (127.0.0.1 and localhost), as a test's
 * service presents it; clients trust it through NODE_EXTRA_CA_CERTS, as users would a private CA.
 */
export async function createLoopbackServerCertificate(validDays = 2): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16).toString('hex'),
    name: 'CN=driveseed test service',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + validDays * 86_400_000),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
    ],
  });
  return { cert: certificate.toString('pem') + '\n', key: await privateKeyPem(keys.privateKey) };
}
