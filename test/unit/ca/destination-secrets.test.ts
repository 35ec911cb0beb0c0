import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { destinationSecretSealedTo, openDestinationSecret, sealDestinationSecret, workerSealingKey, workerSealingKeys } from '../../../ca/destination-secrets.js';
import { deriveSecretsKey, destinationSecretId, kekId, kekRing, sealPrivateKey } from '../../../ca/key-encryption.js';

const oldKek = randomBytes(32);
const newKek = randomBytes(32);
const secret = 'whsec-0123456789abcdef0123456789abcdef';

describe('workerSealingKey', () => {
  it('ok/derived from the KEK: the same KEK gives the same key pair, another KEK another', () => {
    expect(workerSealingKey(Buffer.from(oldKek)).publicKey).toEqual(workerSealingKey(oldKek).publicKey);
    expect(workerSealingKey(newKek).publicKey.id).not.toBe(workerSealingKey(oldKek).publicKey.id);
  });

  it('ok/its label is its own: neither the KEK id nor the legacy secrets key', () => {
    const key = workerSealingKey(oldKek);
    expect(key.publicKey.id).not.toBe(kekId(oldKek));
    const scalar = Buffer.from(key.privateKey.export({ format: 'jwk' }).d!, 'base64url');
    expect(scalar.equals(deriveSecretsKey(oldKek))).toBe(false);
    expect(scalar.equals(oldKek)).toBe(false);
  });

  it('ok/a ring holds one per KEK, current first', () => {
    expect(workerSealingKeys(kekRing(newKek, [oldKek])).map((key) => key.publicKey.id)).toEqual([workerSealingKey(newKek).publicKey.id, workerSealingKey(oldKek).publicKey.id]);
  });
});

describe('sealDestinationSecret / openDestinationSecret', () => {
  const publicKey = workerSealingKey(newKek).publicKey;
  const sealed = sealDestinationSecret(publicKey, secret, 'crt_1', 2);

  it('ok/round trip: the API seals with the public key only, the worker opens with its KEK', () => {
    expect(openDestinationSecret(newKek, sealed, 'crt_1', 2).toString('utf8')).toBe(secret);
    expect(destinationSecretSealedTo(sealed, publicKey)).toBe(true);
  });

  it('ok/during a rotation: boxes sealed to the previous KEK\'s key still open', () => {
    const toOld = sealDestinationSecret(workerSealingKey(oldKek).publicKey, secret, 'crt_1', 0);
    expect(openDestinationSecret(kekRing(newKek, [oldKek]), toOld, 'crt_1', 0).toString('utf8')).toBe(secret);
    expect(destinationSecretSealedTo(toOld, publicKey)).toBe(false);
  });

  it('ok/legacy secrets (AES-GCM under the KEK-derived secrets key) still open, with either KEK of a ring', () => {
    const legacy = sealPrivateKey(deriveSecretsKey(oldKek), Buffer.from(secret, 'utf8'), destinationSecretId('crt_1', 0));
    expect(openDestinationSecret(oldKek, legacy, 'crt_1', 0).toString('utf8')).toBe(secret);
    expect(openDestinationSecret(kekRing(newKek, [oldKek]), legacy, 'crt_1', 0).toString('utf8')).toBe(secret);
    expect(destinationSecretSealedTo(legacy, publicKey)).toBe(false);
  });

  it.each([
    { name: 'fail/another certificate', certificateId: 'crt_2', index: 2, keys: newKek, reason: /cannot open the sealed box/ },
    { name: 'fail/another position', certificateId: 'crt_1', index: 0, keys: newKek, reason: /cannot open the sealed box/ },
    { name: 'fail/only the old KEK', certificateId: 'crt_1', index: 2, keys: oldKek, reason: /not held/ },
  ])('$name', ({ certificateId, index, keys, reason }) => {
    expect(() => openDestinationSecret(keys, sealed, certificateId, index)).toThrow(reason);
  });

  it('fail/after a rotation, a box still sealed to the old key does not open with the new KEK alone', () => {
    const toOld = sealDestinationSecret(workerSealingKey(oldKek).publicKey, secret, 'crt_1', 0);
    expect(() => openDestinationSecret(newKek, toOld, 'crt_1', 0)).toThrow(/not held/);
  });
});
