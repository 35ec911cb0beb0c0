/**
 * The PKCS#11 signer against SoftHSM2: CA keys generated inside a fresh token (non-extractable, sensitive), a
 * chain root (P-256 key in the HSM) → intermediate (RSA-2048 key in the HSM) → leaf in which every signature is
 * the HSM's, accepted by `openssl verify -x509_strict` (and GnuTLS certtool); the private keys cannot be read
 * back.
 */
import { createPublicKey, verify as nodeVerify, webcrypto } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KeyAlgorithm } from '../../core/types.js';
import { authorityKeyIdentifier } from '../../ca/authority.js';
import { signatureAlgorithmIdentifier, signStructure } from '../../ca/der-writer.js';
import { ALGORITHM_SPECS, generateKeyPair, importPublicKeySpki } from '../../ca/keys.js';
import { buildLeafCertificate } from '../support/reference-leaf.js';
import {
  ecdsaSigValue,
  generatePkcs11KeyPair,
  openPkcs11Session,
  pkcs11Code,
  pkcs11Signer,
  readKeyProtection,
  type Pkcs11Signer,
  type Pkcs11TokenOptions,
} from '../../ca/pkcs11-signer.js';
import { Pkcs11Token } from '../../ca/pkcs11-token.js';
import { randomSerial } from '../../ca/serial.js';
import { SIGNING_HASH, type Signer } from '../../ca/signer.js';
import { x509 } from '../../ca/x509.js';
import { runTool } from './run.js';

const softhsm2Util = inject('softhsm2UtilPath');
const modulePath = inject('softhsmModulePath');
const certtool = inject('certtoolPath');

const TOKEN_LABEL = 'certflow-test';
const PIN = '246810';
const SO_PIN = '13579111';
const ROOT_KEY = 'certflow-root-p256';
const INTERMEDIATE_KEY = 'certflow-issuing-rsa2048';
const HOSTNAME = 'svc.certflow.example.com';

let dir: string;
let slotId: number;
let token: Pkcs11TokenOptions;
const signers: Pkcs11Signer[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'certflow-pkcs11-'));
  await fs.mkdir(path.join(dir, 'tokens'));
  const conf = path.join(dir, 'softhsm2.conf');
  await fs.writeFile(conf, `directories.tokendir = ${path.join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  // SoftHSM2 reads its config at C_Initialize: this worker process (and softhsm2-util) use the temp token dir.
  process.env['SOFTHSM2_CONF'] = conf;
  const init = await runTool(softhsm2Util, ['--init-token', '--free', '--label', TOKEN_LABEL, '--pin', PIN, '--so-pin', SO_PIN]);
  expect(init.code, init.stderr).toBe(0);
  slotId = Number(/reassigned to slot (\d+)/.exec(init.stdout)?.[1]);
  expect(slotId).toBeGreaterThan(0);
  token = { modulePath, tokenLabel: TOKEN_LABEL, pin: PIN };

  await generatePkcs11KeyPair({ ...token, keyLabel: ROOT_KEY, keyAlgorithm: 'ECDSA-P256' });
  await generatePkcs11KeyPair({ ...token, keyLabel: INTERMEDIATE_KEY, keyAlgorithm: 'RSA-2048' });
});

afterAll(async () => {
  for (const signer of signers) signer.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function openSigner(keyLabel: string, options: Partial<Pkcs11TokenOptions> = {}): Promise<Pkcs11Signer> {
  const signer = await pkcs11Signer({ ...token, ...options, keyLabel });
  signers.push(signer);
  return signer;
}

/** The TBSCertificate (first element of the outer SEQUENCE) of a DER certificate, as its exact bytes. */
function tbsOf(der: Uint8Array): Buffer {
  const buf = Buffer.from(der);
  const headerLength = (offset: number): { header: number; body: number } => {
    const first = buf[offset + 1]!;
    if (first < 0x80) return { header: 2, body: first };
    const n = first & 0x7f;
    return { header: 2 + n, body: buf.readUIntBE(offset + 2, n) };
  };
  const outer = headerLength(0);
  const tbs = headerLength(outer.header);
  return buf.subarray(outer.header, outer.header + tbs.header + tbs.body);
}

/**
 * Re-signs a certificate built by @peculiar/x509 (with a throwaway software key of the signer's algorithm, so the
 * TBS names the right signature algorithm) with `signer`: the result carries the signer's signature only.
 */
async function resign(certificate: x509.X509Certificate, signer: Signer): Promise<x509.X509Certificate> {
  const tbs = tbsOf(new Uint8Array(certificate.rawData));
  // RFC 5280 §4.1.1.2: the signature field inside the TBS must equal the outer signatureAlgorithm.
  expect(tbs.includes(signatureAlgorithmIdentifier(signer.keyAlgorithm))).toBe(true);
  return new x509.X509Certificate(new Uint8Array(await signStructure(tbs, signer)));
}

async function hsmPublicKey(signer: Signer): Promise<CryptoKey> {
  return importPublicKeySpki(signer.publicKeySpki, signer.keyAlgorithm);
}

async function throwawayKey(algorithm: KeyAlgorithm): Promise<CryptoKey> {
  return (await generateKeyPair(algorithm)).privateKey;
}

const CA_KEY_USAGE = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;

describe('PKCS#11 signer on SoftHSM2', () => {
  it('ok/keys generated in the token are sensitive and never extractable; their secret cannot be read', async () => {
    const session = await openPkcs11Session(token);
    try {
      const { pkcs11, lib } = session;
      for (const [label, secret] of [
        [ROOT_KEY, pkcs11.CKA_VALUE],
        [INTERMEDIATE_KEY, pkcs11.CKA_PRIVATE_EXPONENT],
      ] as const) {
        const privateKey = session.findObject(pkcs11.CKO_PRIVATE_KEY, label);
        const [extractable, sensitive, tokenObject, privateObject] = lib.C_GetAttributeValue(session.session, privateKey, [
          { type: pkcs11.CKA_EXTRACTABLE },
          { type: pkcs11.CKA_SENSITIVE },
          { type: pkcs11.CKA_TOKEN },
          { type: pkcs11.CKA_PRIVATE },
        ]);
        expect(extractable!.value[0], `${label} CKA_EXTRACTABLE`).toBe(0);
        expect(sensitive!.value[0], `${label} CKA_SENSITIVE`).toBe(1);
        expect(tokenObject!.value[0], `${label} CKA_TOKEN`).toBe(1);
        expect(privateObject!.value[0], `${label} CKA_PRIVATE`).toBe(1);
        expect(readKeyProtection(session, privateKey)).toEqual({ extractable: false, sensitive: true, neverExtractable: true, alwaysSensitive: true });

        // The private value itself is refused by the token…
        let readError: unknown;
        try {
          lib.C_GetAttributeValue(session.session, privateKey, [{ type: secret }]);
        } catch (error) {
          readError = error;
        }
        expect(pkcs11Code(readError), `reading the secret of ${label}`).toBe(pkcs11.CKR_ATTRIBUTE_SENSITIVE);
        // …and CKA_EXTRACTABLE cannot be switched back on (PKCS#11: it may only go from true to false).
        expect(() => lib.C_SetAttributeValue(session.session, privateKey, [{ type: pkcs11.CKA_EXTRACTABLE, value: true }])).toThrow();
      }
    } finally {
      session.close();
    }
  });

  it('ok/issues a chain (HSM root P-256 → HSM intermediate RSA-2048 → leaf) that openssl verify -x509_strict accepts', async () => {
    const rootSigner = await openSigner(ROOT_KEY);
    const intermediateSigner = await openSigner(INTERMEDIATE_KEY, { tokenLabel: undefined, slot: slotId });
    expect(rootSigner.keyAlgorithm).toBe('ECDSA-P256');
    expect(intermediateSigner.keyAlgorithm).toBe('RSA-2048');
    expect(rootSigner.keyProtection).toMatchObject({ extractable: false, sensitive: true });

    const now = new Date(Date.now() - 60_000);
    const days = (n: number) => new Date(now.getTime() + n * 86_400_000);

    // Root: self-signed by the HSM key.
    const rootPublicKey = await hsmPublicKey(rootSigner);
    const rootTemplate = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: 'O=Certflow HSM Test, CN=Certflow HSM Root CA',
      issuer: 'O=Certflow HSM Test, CN=Certflow HSM Root CA',
      notBefore: now,
      notAfter: days(3650),
      signingAlgorithm: ALGORITHM_SPECS[rootSigner.keyAlgorithm].signing,
      publicKey: rootPublicKey,
      signingKey: await throwawayKey(rootSigner.keyAlgorithm),
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
        await x509.SubjectKeyIdentifierExtension.create(rootPublicKey),
      ],
    });
    const root = await resign(rootTemplate, rootSigner);
    expect(await root.verify({ publicKey: rootPublicKey, signatureOnly: true })).toBe(true);
    expect(await rootTemplate.verify({ publicKey: rootPublicKey, signatureOnly: true })).toBe(false); // the throwaway signature is gone

    // Intermediate: its key is in the HSM too, signed by the HSM root.
    const intermediatePublicKey = await hsmPublicKey(intermediateSigner);
    const intermediateTemplate = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: 'O=Certflow HSM Test, CN=Certflow HSM Issuing CA 1',
      issuer: root.subjectName,
      notBefore: now,
      notAfter: days(1825),
      signingAlgorithm: ALGORITHM_SPECS[rootSigner.keyAlgorithm].signing,
      publicKey: intermediatePublicKey,
      signingKey: await throwawayKey(rootSigner.keyAlgorithm),
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
        await x509.SubjectKeyIdentifierExtension.create(intermediatePublicKey),
        authorityKeyIdentifier(root),
      ],
    });
    const intermediate = await resign(intermediateTemplate, rootSigner);

    // Leaf: built by the reference leaf builder for a software leaf key, signed by the HSM intermediate.
    const leafKeys = await generateKeyPair('ECDSA-P256');
    const leafTemplate = await buildLeafCertificate(
      { certificate: intermediate, signingKey: await throwawayKey(intermediateSigner.keyAlgorithm), keyAlgorithm: intermediateSigner.keyAlgorithm },
      {
        serial: randomSerial(),
        commonName: HOSTNAME,
        dnsNames: [HOSTNAME],
        ipAddresses: [],
        uris: [],
        profile: 'mtls',
        subjectPublicKey: leafKeys.publicKey,
        subjectKeyAlgorithm: 'ECDSA-P256',
        issuedAt: new Date(),
        validitySeconds: 30 * 86_400,
      },
    );
    const leaf = await resign(leafTemplate, intermediateSigner);
    expect(await leaf.verify({ publicKey: intermediatePublicKey, signatureOnly: true })).toBe(true);

    const file = async (name: string, cert: x509.X509Certificate) => {
      const target = path.join(dir, name);
      await fs.writeFile(target, cert.toString('pem'));
      return target;
    };
    const rootPem = await file('root.pem', root);
    const intermediatePem = await file('intermediate.pem', intermediate);
    const leafPem = await file('leaf.pem', leaf);

    for (const purpose of [['-purpose', 'sslserver', '-verify_hostname', HOSTNAME], ['-purpose', 'sslclient']]) {
      const result = await runTool('openssl', ['verify', '-x509_strict', ...purpose, '-CAfile', rootPem, '-untrusted', intermediatePem, leafPem]);
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe(`${leafPem}: OK`);
      expect(result.code).toBe(0);
    }
    // The root alone (self-signed by the HSM) and the intermediate against it.
    const rootCheck = await runTool('openssl', ['verify', '-x509_strict', '-CAfile', rootPem, intermediatePem]);
    expect(rootCheck.stdout.trim()).toBe(`${intermediatePem}: OK`);

    // GnuTLS agrees.
    const chainPem = path.join(dir, 'chain.pem');
    await fs.writeFile(chainPem, leaf.toString('pem') + intermediate.toString('pem'));
    const gnutls = await runTool(certtool, ['--verify', '--verify-profile', 'medium', '--load-ca-certificate', rootPem, '--infile', chainPem, '--verify-hostname', HOSTNAME]);
    expect(gnutls.stdout).toMatch(/^Chain verification output: Verified\./m);

    // Negative: another root with the same name but a software key does not verify the chain.
    const impostorKeys = await generateKeyPair('ECDSA-P256');
    const impostor = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: root.subject,
      notBefore: now,
      notAfter: days(3650),
      signingAlgorithm: ALGORITHM_SPECS['ECDSA-P256'].signing,
      keys: impostorKeys,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(CA_KEY_USAGE, true)],
    });
    const impostorPem = await file('impostor.pem', impostor);
    const refused = await runTool('openssl', ['verify', '-x509_strict', '-CAfile', impostorPem, '-untrusted', intermediatePem, leafPem]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/certificate signature failure|unable to get local issuer/);
  });

  it('ok/concurrent signs on one signer are serialized and all verify', async () => {
    const signer = await openSigner(ROOT_KEY);
    const messages = Array.from({ length: 8 }, (_, i) => Buffer.from(`message ${i}`));
    const signatures = await Promise.all(messages.map((m) => signer.sign(m)));
    const key = createPublicKey({ key: Buffer.from(signer.publicKeySpki), format: 'der', type: 'spki' });
    messages.forEach((m, i) => {
      expect(nodeVerify(SIGNING_HASH[signer.keyAlgorithm], m, { key, dsaEncoding: 'der' }, signatures[i]!)).toBe(true);
    });
  });

  it('ok/the SPKI read from the token is the one WebCrypto derives', async () => {
    const signer = await openSigner(INTERMEDIATE_KEY);
    const imported = await importPublicKeySpki(signer.publicKeySpki, 'RSA-2048');
    expect(Buffer.from(await webcrypto.subtle.exportKey('spki', imported))).toEqual(Buffer.from(signer.publicKeySpki));
  });

  it('fail/a wrong PIN, an unknown key label, an unknown token or slot are refused with a clear error', async () => {
    // PKCS#11 login state is per process and token: while another session of this process is logged in, C_Login
    // answers CKR_USER_ALREADY_LOGGED_IN without checking the PIN. Close every session so the PIN is checked.
    for (const signer of signers.splice(0)) signer.close();
    await expect(pkcs11Signer({ ...token, pin: '000000', keyLabel: ROOT_KEY })).rejects.toThrow(/C_Login|PIN_INCORRECT/);
    await expect(pkcs11Signer({ ...token, keyLabel: 'no-such-key' })).rejects.toThrow(/no private key labelled "no-such-key"/);
    await expect(pkcs11Signer({ ...token, tokenLabel: 'no-such-token', keyLabel: ROOT_KEY })).rejects.toThrow(/no token labelled "no-such-token"/);
    await expect(pkcs11Signer({ modulePath, slot: 4242, pin: PIN, keyLabel: ROOT_KEY })).rejects.toThrow(/no token in slot 4242/);
    await expect(generatePkcs11KeyPair({ ...token, keyLabel: ROOT_KEY, keyAlgorithm: 'ECDSA-P256' })).rejects.toThrow(/already exists/);
  });

  it('fail/an extractable key is refused as a CA key unless explicitly allowed', async () => {
    const session = await openPkcs11Session(token);
    try {
      const { pkcs11, lib } = session;
      const label = 'certflow-extractable';
      const common = [
        { type: pkcs11.CKA_TOKEN, value: true },
        { type: pkcs11.CKA_LABEL, value: label },
        { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_EC },
      ];
      lib.C_GenerateKeyPair(
        session.session,
        { mechanism: pkcs11.CKM_EC_KEY_PAIR_GEN },
        [...common, { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY }, { type: pkcs11.CKA_VERIFY, value: true }, { type: pkcs11.CKA_EC_PARAMS, value: Buffer.from('06082a8648ce3d030107', 'hex') }],
        [
          ...common,
          { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY },
          { type: pkcs11.CKA_SIGN, value: true },
          { type: pkcs11.CKA_PRIVATE, value: true },
          { type: pkcs11.CKA_SENSITIVE, value: false },
          { type: pkcs11.CKA_EXTRACTABLE, value: true },
        ],
      );
      await expect(pkcs11Signer({ ...token, keyLabel: label })).rejects.toThrow(/is extractable/);
      const allowed = await pkcs11Signer({ ...token, keyLabel: label, allowExtractable: true });
      signers.push(allowed);
      expect(allowed.keyProtection).toMatchObject({ extractable: true, sensitive: false });
    } finally {
      session.close();
    }
  });
});

describe('ecdsaSigValue', () => {
  it('ok/encodes r‖s as DER INTEGERs: leading zeros dropped, 0x00 added when the high bit is set', () => {
    const r = Buffer.alloc(32, 0);
    r[1] = 0x01; // leading zero octet → 31-byte INTEGER
    const s = Buffer.alloc(32, 0xff); // high bit → 33-byte INTEGER
    const der = ecdsaSigValue(Buffer.concat([r, s]));
    expect(der.toString('hex')).toBe(`3044021f${r.subarray(1).toString('hex')}022100${s.toString('hex')}`);
  });
});

describe('Pkcs11Token: the worker\'s session pool on SoftHSM2', () => {
  it('ok/creates keys in the token, signs concurrently on two keys over a pool of 2 sessions, reuses a key left by a crashed creation', async () => {
    const hsm = await Pkcs11Token.open(token, 2);
    try {
      const p384 = await hsm.createKey('certflow-pool-p384', 'ECDSA-P384');
      const rsa = await hsm.createKey('certflow-pool-rsa', 'RSA-2048');
      expect(p384.keyProtection).toEqual({ extractable: false, sensitive: true, neverExtractable: true, alwaysSensitive: true });
      expect(rsa.keyAlgorithm).toBe('RSA-2048');

      const messages = Array.from({ length: 12 }, (_, i) => Buffer.from(`pool message ${i}`));
      const signed = await Promise.all(messages.map(async (message, i) => ({ message, key: i % 2 === 0 ? p384 : rsa, signature: await (i % 2 === 0 ? p384 : rsa).sign(message) })));
      for (const { message, key, signature } of signed) {
        const publicKey = createPublicKey({ key: Buffer.from(key.publicKeySpki), format: 'der', type: 'spki' });
        expect(nodeVerify(SIGNING_HASH[key.keyAlgorithm], message, key.keyAlgorithm.startsWith('ECDSA') ? { key: publicKey, dsaEncoding: 'der' } : publicKey, signature)).toBe(true);
      }

      // A second creation under the same label (a retried activity) opens the existing key instead of adding one.
      const again = await hsm.createKey('certflow-pool-p384', 'ECDSA-P384');
      expect(Buffer.from(again.publicKeySpki)).toEqual(Buffer.from(p384.publicKeySpki));
      await expect(hsm.createKey('certflow-pool-p384', 'ECDSA-P256')).rejects.toThrow(/is ECDSA-P384, want ECDSA-P256/);
      // Concurrent creations under one label still make one key pair.
      await Promise.all([hsm.createKey('certflow-pool-race', 'ECDSA-P256'), hsm.createKey('certflow-pool-race', 'ECDSA-P256')]);
      const session = await openPkcs11Session(token);
      try {
        expect(session.findObjects(session.pkcs11.CKO_PRIVATE_KEY, 'certflow-pool-race')).toHaveLength(1);
      } finally {
        session.close();
      }
    } finally {
      hsm.close();
    }
    await expect(hsm.openKey('certflow-pool-p384')).rejects.toThrow(/closed/);
  });

  it('fail/refuses an extractable key, an unknown label, and a pool without sessions', async () => {
    const hsm = await Pkcs11Token.open(token);
    try {
      await expect(hsm.openKey('certflow-extractable')).rejects.toThrow(/is extractable/);
      await expect(hsm.openKey('no-such-key')).rejects.toThrow(/no private key labelled "no-such-key"/);
    } finally {
      hsm.close();
    }
    await expect(Pkcs11Token.open(token, 0)).rejects.toThrow(/at least one session/);
  });
});
