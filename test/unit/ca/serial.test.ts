import { describe, expect, it } from 'vitest';
import { randomSerial } from '../../../ca/serial.js';

describe('randomSerial', () => {
  const serials = Array.from({ length: 1000 }, () => randomSerial());

  it('ok/1000 serials are distinct', () => {
    expect(new Set(serials).size).toBe(1000);
  });

  it('ok/each is 16 bytes of lower-case hex', () => {
    for (const serial of serials) expect(serial).toMatch(/^[0-9a-f]{32}$/);
  });

  it('ok/the top bit is clear and the first byte is not zero (exactly 16 DER octets, positive)', () => {
    for (const serial of serials) {
      const first = Number.parseInt(serial.slice(0, 2), 16);
      expect(first & 0x80).toBe(0);
      expect(first).toBeGreaterThan(0);
      expect(BigInt(`0x${serial}`)).toBeGreaterThanOrEqual(2n ** 120n);
    }
  });

  it('ok/the remaining bits vary', () => {
    // each of the 15 trailing bytes should take many values over 1000 draws
    for (let byte = 1; byte < 16; byte++) {
      const values = new Set(serials.map((serial) => serial.slice(byte * 2, byte * 2 + 2)));
      expect(values.size).toBeGreaterThan(200);
    }
    const firstBytes = new Set(serials.map((serial) => serial.slice(0, 2)));
    expect(firstBytes.size).toBeGreaterThan(32);
  });
});
