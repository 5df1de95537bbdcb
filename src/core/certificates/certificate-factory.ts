import { randomBytes, webcrypto } from 'node:crypto';
// @peculiar/x509 resolves its crypto services through tsyringe, which needs the metadata polyfill first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { thumbprintOf, type CertificateWithKey } from './certificates.js';

/*
 * Kept apart from certificates.ts and loaded only by the commands that make certificates:
 * @peculiar/x509 and its polyfill cost more start-up time than every other command needs.
 */
x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/**
 * A new self-signed ECDSA P-256 certificate, as the seed's CertGen makes one per application
 * (a signing key only); other `extensions` make other kinds, a TLS server's for one.
 */
export async function createSelfSignedCertificate(
  commonName: string,
  validDays: number,
  now = new Date(),
  extensions: x509.Extension[] = [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
): Promise<CertificateWithKey> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16).toString('hex'),
    name: `CN=${commonName}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + validDays * 86_400_000),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions,
  });
  const certificatePem = cert.toString('pem') + '\n';
  return { certificatePem, privateKeyPem: await privateKeyPem(keys.privateKey), thumbprint: thumbprintOf(certificatePem) };
}

/** A private key as PKCS #8 PEM, the form node's crypto and TLS read. */
async function privateKeyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END PRIVATE KEY-----\n`;
}
