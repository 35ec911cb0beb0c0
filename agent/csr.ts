/** Builds the PKCS#10 request the agent answers a CSR request with, for a key it holds. */
import { createPrivateKey } from 'node:crypto';
import type { CsrRequest } from '../contracts/agent-wire.js';
import { ALGORITHM_SPECS, importPrivateKeyPkcs8, importPublicKeySpki } from '../ca/keys.js';
import { x509 } from '../ca/x509.js';
import { spkiOf } from './key-store.js';

/** A CSR naming exactly the certificate's names, signed by `privateKeyPemText`. */
export async function buildCsr(request: Pick<CsrRequest, 'keyAlgorithm' | 'commonName' | 'dnsNames' | 'ipAddresses' | 'uris'>, privateKeyPemText: string): Promise<string> {
  const pkcs8 = createPrivateKey(privateKeyPemText).export({ type: 'pkcs8', format: 'der' });
  const keys: CryptoKeyPair = {
    privateKey: await importPrivateKeyPkcs8(pkcs8, request.keyAlgorithm),
    publicKey: await importPublicKeySpki(spkiOf(privateKeyPemText), request.keyAlgorithm),
  };
  pkcs8.fill(0);
  const names: x509.JsonGeneralName[] = [
    ...request.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...request.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ...request.uris.map((value) => ({ type: 'url' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    ...(request.commonName !== null ? { name: [{ CN: [request.commonName] }] } : {}),
    keys,
    signingAlgorithm: ALGORITHM_SPECS[request.keyAlgorithm].signing,
    extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
  return csr.toString('pem');
}
