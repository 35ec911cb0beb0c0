import { describe, expect, it } from 'vitest';
import { contactSecretSealedTo, openContactSecret, resealContactSecret, sealContactSecret } from '../../../ca/contact-secrets.js';
import { workerSealingKey } from '../../../ca/destination-secrets.js';
import { kekRing } from '../../../ca/key-encryption.js';

const oldKek = Buffer.alloc(32, 1);
const newKek = Buffer.alloc(32, 2);

describe('contact secrets', () => {
  const sealed = sealContactSecret(workerSealingKey(oldKek).publicKey, 'a shared signing secret', 'ctc_a');

  it('ok/opens under the KEK it was sealed for, bound to its contact', () => {
    expect(openContactSecret(oldKek, sealed, 'ctc_a').toString()).toBe('a shared signing secret');
    expect(() => openContactSecret(oldKek, sealed, 'ctc_b')).toThrow();
    expect(() => openContactSecret(newKek, sealed, 'ctc_a')).toThrow();
  });

  it('ok/a KEK rotation re-seals it to the new sealing key', () => {
    const ring = kekRing(newKek, [oldKek]);
    const resealed = resealContactSecret(ring, workerSealingKey(newKek).publicKey, sealed, 'ctc_a');
    expect(contactSecretSealedTo(sealed, workerSealingKey(newKek).publicKey)).toBe(false);
    expect(contactSecretSealedTo(resealed, workerSealingKey(newKek).publicKey)).toBe(true);
    expect(openContactSecret(newKek, resealed, 'ctc_a').toString()).toBe('a shared signing secret');
  });
});
