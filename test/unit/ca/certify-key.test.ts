/**
 * certifyRootKey / certifyIntermediateKey: CA certificates for a key that exists already behind a Signer (a key in
 * an HSM). Here the signers are software keys, so the result can be compared with createRootCa /
 * createIntermediateCa and checked by `openssl verify -x509_strict`.
 */
import { createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyAlgorithm } from '../../../core/types.js';
import { certifyIntermediateKey, certifyRootKey, createRootCa } from '../../../ca/authority.js';
import { certificateFacts } from '../../../ca/certificate-facts.js';
import { exportPrivateKeyPkcs8, generateKeyPair } from '../../../ca/keys.js';
import { issuerUrls } from '../../../ca/profiles.js';
import { randomSerial } from '../../../ca/serial.js';
import { softwareSigner, type Signer } from '../../../ca/signer.js';
import { x509 } from '../../../ca/x509.js';
import { epochSeconds, makeTempDir, NOW, openssl, type TempDir } from './support.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await makeTempDir('certify-key');
});
afterAll(() => dir?.remove());

async function signerFor(keyAlgorithm: KeyAlgorithm): Promise<Signer> {
  const keys = await generateKeyPair(keyAlgorithm);
  return softwareSigner(createPrivateKey({ key: await exportPrivateKeyPkcs8(keys.privateKey), format: 'der', type: 'pkcs8' }), keyAlgorithm);
}

const options = (commonName: string) => ({ commonName, organization: 'Certflow Test', validityDays: 365, now: NOW, serial: randomSerial });

describe('certifyRootKey / certifyIntermediateKey', () => {
  const cases: { name: string; root: KeyAlgorithm; intermediate: KeyAlgorithm }[] = [
    { name: 'ok/P-384 root, P-256 intermediate (the bootstrap pair)', root: 'ECDSA-P384', intermediate: 'ECDSA-P256' },
    { name: 'ok/P-256 root, RSA-2048 intermediate', root: 'ECDSA-P256', intermediate: 'RSA-2048' },
    { name: 'ok/RSA-3072 root, P-384 intermediate', root: 'RSA-3072', intermediate: 'ECDSA-P384' },
  ];
  it.each(cases)('$name: openssl verify -x509_strict accepts the chain', async ({ root: rootAlgorithm, intermediate: intermediateAlgorithm }) => {
    const rootKey = await signerFor(rootAlgorithm);
    const intermediateKey = await signerFor(intermediateAlgorithm);
    const root = await certifyRootKey(rootKey, options('Certify Root'));
    const intermediate = await certifyIntermediateKey(
      { certificate: root, signer: rootKey, urls: issuerUrls('http://127.0.0.1:8080', 'iss_root') },
      intermediateKey.publicKeySpki,
      { ...options('Certify Issuing CA'), permittedDnsZones: ['example.test'] },
    );
    expect(certificateFacts(root.toString('pem')).spkiDer.equals(rootKey.publicKeySpki)).toBe(true);
    expect(certificateFacts(intermediate.toString('pem')).spkiDer.equals(intermediateKey.publicKeySpki)).toBe(true);
    expect(intermediate.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: true, pathLength: 0, critical: true });
    expect(intermediate.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(root.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);

    const rootPem = await dir.write(`root-${rootAlgorithm}.pem`, root.toString('pem'));
    const intermediatePem = await dir.write(`intermediate-${intermediateAlgorithm}.pem`, intermediate.toString('pem'));
    const verified = await openssl(['verify', '-x509_strict', '-attime', epochSeconds(NOW), '-CAfile', rootPem, intermediatePem]);
    expect(verified.stdout.trim(), verified.stderr).toBe(`${intermediatePem}: OK`);
    const selfSigned = await openssl(['verify', '-x509_strict', '-attime', epochSeconds(NOW), '-CAfile', rootPem, rootPem]);
    expect(selfSigned.stdout.trim(), selfSigned.stderr).toBe(`${rootPem}: OK`);
  });

  it('ok/a root certified through a signer says what createRootCa says', async () => {
    const made = await createRootCa({ ...options('Same Root'), keyAlgorithm: 'ECDSA-P384' });
    const signer = softwareSigner(createPrivateKey({ key: await exportPrivateKeyPkcs8(made.keys.privateKey), format: 'der', type: 'pkcs8' }), 'ECDSA-P384');
    const certified = await certifyRootKey(signer, options('Same Root'));
    expect(certified.subject).toBe(made.certificate.subject);
    expect(certified.signatureAlgorithm).toEqual(made.certificate.signatureAlgorithm);
    expect(certified.extensions.map((extension) => [extension.type, extension.critical, Buffer.from(extension.value).toString('hex')])).toEqual(
      made.certificate.extensions.map((extension) => [extension.type, extension.critical, Buffer.from(extension.value).toString('hex')]),
    );
    expect(await certified.verify({ signatureOnly: true })).toBe(true);
  });

  it('fail/a signer whose signatures are not of its certified key gives a certificate that does not verify', async () => {
    const real = await signerFor('ECDSA-P256');
    const other = await signerFor('ECDSA-P256');
    const lying: Signer = { keyAlgorithm: real.keyAlgorithm, publicKeySpki: real.publicKeySpki, sign: (data) => other.sign(data) };
    const root = await certifyRootKey(lying, options('Lying Root'));
    expect(await root.verify({ signatureOnly: true })).toBe(false);
  });
});
