// First: it loads the metadata polyfill that @peculiar/x509 needs, and sets its crypto provider.
import { createSelfSignedCertificate } from '../core/certificates/certificate-factory.js';
import * as x509 from '@peculiar/x509';

/**
 * A self-signed TLS server certificate for loopback (127.0.0.1 and localhost), as a test's
 * service presents it; clients trust it through NODE_EXTRA_CA_CERTS, as users would a private CA.
 */
export async function createLoopbackServerCertificate(validDays = 2): Promise<{ cert: string; key: string }> {
  const made = await createSelfSignedCertificate('driveseed test service', validDays, new Date(), [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension([
      { type: 'ip', value: '127.0.0.1' },
      { type: 'dns', value: 'localhost' },
    ]),
  ]);
  return { cert: made.certificatePem, key: made.privateKeyPem };
}
