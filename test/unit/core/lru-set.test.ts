import { describe, expect, it } from 'vitest';
import { LruSet } from '../../../core/lru-set.js';

describe('LruSet', () => {
  it('ok/never holds more than its capacity, however many values it is given', () => {
    const set = new LruSet(3);
    for (let index = 0; index < 1000; index++) set.add(`value-${index}`);
    expect(set.size).toBe(3);
    expect(['value-997', 'value-998', 'value-999'].every((value) => set.has(value))).toBe(true);
    expect(set.has('value-0')).toBe(false);
  });

  it('ok/forgets the least recently used member first; a lookup counts as a use', () => {
    const set = new LruSet(2);
    set.add('a');
    set.add('b');
    expect(set.has('a')).toBe(true); // b is now the least recently used
    set.add('c');
    expect(set.has('b')).toBe(false);
    expect(set.has('a')).toBe(true);
    expect(set.has('c')).toBe(true);
  });

  it('ok/adding a member again does not grow the set, and makes it the most recently used', () => {
    const set = new LruSet(2);
    set.add('a');
    set.add('b');
    set.add('a');
    expect(set.size).toBe(2);
    set.add('c');
    expect(set.has('b')).toBe(false);
    expect(set.has('a')).toBe(true);
  });

  it('ok/a value never added is not a member, and clear forgets everything', () => {
    const set = new LruSet(4);
    set.add('a');
    expect(set.has('A')).toBe(false);
    set.clear();
    expect(set.size).toBe(0);
    expect(set.has('a')).toBe(false);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('fail/capacity %s is refused', (capacity) => {
    expect(() => new LruSet(capacity)).toThrow(RangeError);
  });
});
