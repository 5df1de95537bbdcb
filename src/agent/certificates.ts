import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
// @peculiar/x509 resolves its crypto services through tsyringe, which needs the metadata polyfill first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { SignJWT } from 'jose';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** Client assertions are short: long enough for clock skew, short enough that a leak expires. */
const ASSERTION_SECONDS = 300;

export interface CertificateWithKey {
  certificatePem: string;
  privateKeyPem: string;
  thumbprint: string;
}

/** A new self-signed ECDSA P-256 certificate, as the seed's CertGen makes one per application. */
export async function createSelfSignedCertificate(commonName: string, validDays: number, now = new Date()): Promise<CertificateWithKey> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16).toString('hex'),
    name: `CN=${commonName}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + validDays * 86_400_000),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const privateKeyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  const certificatePem = cert.toString('pem') + '\n';
  return { certificatePem, privateKeyPem, thumbprint: thumbprintOf(certificatePem) };
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

