import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { SignJWT } from 'jose';

/** Client assertions are short: long enough for clock skew, short enough that a leak expires. */
const ASSERTION_SECONDS = 300;

export interface CertificateWithKey {
  certificatePem: string;
  privateKeyPem: string;
  thumbprint: string;
}

/** SHA-256 of the DER, hex: the same thumbprint the service shows. */
export function thumbprintOf(certificatePem: string): string {
  return new X509Certificate(certificatePem).fingerprint256.replaceAll(':', '').toLowerCase();
}

/** An RFC 7523 client assertion for the token endpoint, signed with the certificate's key. */
export async function signClientAssertion(applicationId: string, tokenUrl: string, cert: CertificateWithKey, now = new Date()): Promise<string> {
  const x5t = Buffer.from(cert.thumbprint, 'hex').toString('base64url');
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', 'x5t#S256': x5t })
    .setIssuer(applicationId)
    .setSubject(applicationId)
    .setAudience(tokenUrl)
    .setJti(randomBytes(16).toString('hex'))
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_SECONDS)
    .sign(createPrivateKey(cert.privateKeyPem));
}
