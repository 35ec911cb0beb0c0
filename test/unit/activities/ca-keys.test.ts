/** activities/ca-keys.ts without a token: software CA keys sealed to their row, and the refusals for keys that live elsewhere. */
import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCaKey, openCaKey, pkcs11KeyLabel, type StoredCaKey } from '../../../activities/ca-keys.js';
import type { Pkcs11Token } from '../../../ca/pkcs11-token.js';

const kek = Buffer.alloc(32, 7);

describe('CA keys', () => {
  it('ok/software: sealed to the row id, opened back to the same key', async () => {
    const created = await createCaKey({ kek }, 'iss_one', 'ECDSA-P256');
    expect(created.location).toMatchObject({ keyBackend: 'software', keyRef: null });
    expect(created.location.sealedPrivateKey).toMatch(/^v2\./);
    const row: StoredCaKey = { id: 'iss_one', keyAlgorithm: 'ECDSA-P256', ...created.location };
    const opened = await openCaKey({ kek }, row);
    expect(Buffer.from(opened.publicKeySpki).equals(Buffer.from(created.signer.publicKeySpki))).toBe(true);
    const data = Buffer.from('tbs');
    const key = createPublicKey({ key: Buffer.from(opened.publicKeySpki), format: 'der', type: 'spki' });
    expect(verify('sha256', data, { key, dsaEncoding: 'der' }, await opened.sign(data))).toBe(true);
  });

  it('ok/the token label of an issuer', () => {
    expect(pkcs11KeyLabel('iss_abc')).toBe('certflow-ca-iss_abc');
  });

  const sealed = async () => (await createCaKey({ kek }, 'iss_two', 'ECDSA-P384')).location.sealedPrivateKey!;
  const fail: { name: string; row: () => Promise<StoredCaKey>; sources?: { kek: Buffer; hsm?: Pkcs11Token }; message: RegExp }[] = [
    {
      name: 'fail/a pkcs11 issuer on a worker without a token',
      row: async () => ({ id: 'iss_hsm', keyAlgorithm: 'ECDSA-P256', keyBackend: 'pkcs11', keyRef: 'certflow-ca-iss_hsm', sealedPrivateKey: null }),
      message: /in a PKCS#11 token \("certflow-ca-iss_hsm"\), but this worker has no token configured/,
    },
    {
      name: 'fail/a pkcs11 issuer without a key reference',
      row: async () => ({ id: 'iss_hsm', keyAlgorithm: 'ECDSA-P256', keyBackend: 'pkcs11', keyRef: null, sealedPrivateKey: null }),
      message: /no PKCS#11 key reference/,
    },
    {
      name: 'fail/a software issuer without a sealed key',
      row: async () => ({ id: 'iss_sw', keyAlgorithm: 'ECDSA-P256', keyBackend: 'software', keyRef: null, sealedPrivateKey: null }),
      message: /has no sealed key/,
    },
    {
      name: 'fail/a sealed key moved to another row',
      row: async () => ({ id: 'iss_other', keyAlgorithm: 'ECDSA-P384', keyBackend: 'software', keyRef: null, sealedPrivateKey: await sealed() }),
      message: /iss_other/,
    },
    {
      name: 'fail/a sealed key under another KEK',
      row: async () => ({ id: 'iss_two', keyAlgorithm: 'ECDSA-P384', keyBackend: 'software', keyRef: null, sealedPrivateKey: await sealed() }),
      sources: { kek: Buffer.alloc(32, 8) },
      message: /iss_two/,
    },
  ];
  it.each(fail)('$name', async ({ row, sources, message }) => {
    await expect(openCaKey(sources ?? { kek }, await row())).rejects.toThrow(message);
  });

  it('fail/Ed25519 CA keys are not created in a token', async () => {
    await expect(createCaKey({ kek, hsm: {} as Pkcs11Token }, 'iss_ed', 'Ed25519')).rejects.toThrow(/Ed25519 is not supported/);
  });
});
