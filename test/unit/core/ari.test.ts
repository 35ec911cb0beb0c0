import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AriCertIdError, formatAriCertId, parseAriCertId, suggestedWindow } from '../../../core/ari.js';

describe('ARI certID (RFC 9773 §4.1)', () => {
  it('ok/the RFC example parses to its key identifier and serial, and formats back', () => {
    const id = parseAriCertId('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
    expect(id).toEqual({ keyIdentifierHex: '69885b6b87464041e1b37b847ba0ae2cde01c8d4', serialHex: '87654321' });
    expect(formatAriCertId({ keyIdentifierHex: '69885B6B87464041E1B37B847BA0AE2CDE01C8D4', serialHex: '0087654321' })).toBe('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  });

  it('ok/a serial without its top bit set has no leading zero octet', () => {
    expect(formatAriCertId({ keyIdentifierHex: '01', serialHex: '7f01' })).toBe('AQ.fwE');
    expect(parseAriCertId('AQ.fwE')).toEqual({ keyIdentifierHex: '01', serialHex: '7f01' });
  });

  it('ok/round trip over lengths 1 to 20 octets', () => {
    for (let length = 1; length <= 20; length++) {
      const serialHex = `5${'a'.repeat(length * 2 - 1)}`;
      const keyIdentifierHex = 'ab'.repeat(length);
      expect(parseAriCertId(formatAriCertId({ keyIdentifierHex, serialHex }))).toEqual({ keyIdentifierHex, serialHex });
    }
  });

  it("ok/agrees with Node's base64url on random identifiers and serials", () => {
    for (let round = 0; round < 200; round++) {
      const keyIdentifier = randomBytes(1 + (round % 32));
      const serial = randomBytes(1 + (round % 20));
      serial[0] = (serial[0]! & 0x7f) | 0x01;
      const text = `${keyIdentifier.toString('base64url')}.${serial.toString('base64url')}`;
      expect(formatAriCertId({ keyIdentifierHex: keyIdentifier.toString('hex'), serialHex: serial.toString('hex') })).toBe(text);
      expect(parseAriCertId(text)).toEqual({ keyIdentifierHex: keyIdentifier.toString('hex'), serialHex: serial.toString('hex') });
    }
  });

  const refused: [string, string][] = [
    ['fail/no dot', 'aYhba4dGQEHhs3uEe6CuLN4ByNQ'],
    ['fail/three parts', 'AQ.AQ.AQ'],
    ['fail/empty key identifier', '.AIdlQyE'],
    ['fail/empty serial', 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.'],
    ['fail/padding', 'aYhba4dGQEHhs3uEe6CuLN4ByNQ=.AIdlQyE'],
    ['fail/standard base64 alphabet', 'a+hba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE'],
    ['fail/impossible length', 'AQ.AIdlQ'],
    ['fail/non-canonical trailing bits', 'AR.fwE'],
    ['fail/negative serial', 'AQ.gA'],
    ['fail/superfluous leading zero', 'AQ.AH8'],
  ];
  it.each(refused)('%s', (_name, text) => {
    expect(() => parseAriCertId(text)).toThrow(AriCertIdError);
  });
});

describe('ARI suggested window (RFC 9773 §4.2)', () => {
  const renewAt = new Date('2026-12-20T00:00:00Z');
  const notAfter = new Date('2026-12-30T00:00:00Z');

  it('ok/from the renewal time to the midpoint before notAfter', () => {
    expect(suggestedWindow({ renewAt, notAfter })).toEqual({ start: renewAt, end: new Date('2026-12-25T00:00:00Z') });
  });

  it('ok/a renewal time past notAfter still gives a window that ends after it starts', () => {
    const window = suggestedWindow({ renewAt: notAfter, notAfter: renewAt });
    expect(window.end.getTime()).toBeGreaterThan(window.start.getTime());
  });

  it('ok/a forced renewal puts the whole window in the past, with its explanation', () => {
    const at = new Date('2026-12-07T12:00:00Z');
    const window = suggestedWindow({ renewAt, notAfter, forced: { at, explanationUrl: 'https://certflow.example/incidents/blk_1' } });
    expect(window.end.getTime()).toBeLessThan(at.getTime());
    expect(window.start.getTime()).toBeLessThan(window.end.getTime());
    expect(window.explanationUrl).toBe('https://certflow.example/incidents/blk_1');
  });
});
