/**
 * Structured mutations of valid DER seeds, for fuzzing the DER readers.
 *
 * A seed is read into a tree of TLVs (this walker is the test's own, independent of ca/der-reader.ts;
 * OCTET STRING and BIT STRING contents that hold DER are walked too, e.g. a SAN extnValue or an RSA
 * key). Tree mutations change one element — its length octets (wrong, huge, BER long form, BER
 * indefinite), its tag, its content, a duplicate, a child that overflows its parent — and the tree is
 * written back with every other length recomputed, so the damage sits deep inside a well-formed
 * envelope. Byte mutations (bit flips, truncation, insertions, deletions, trailing garbage) then act
 * on the bytes. Every mutation carries a label so a failure says what was done.
 */
import fc from 'fast-check';

export interface DerNode {
  tag: number;
  /** Constructed elements and primitive OCTET/BIT STRINGs whose content is DER. */
  children?: DerNode[];
  /** Primitive content (when there are no children). */
  content?: Buffer;
  /** The unused-bits octet of a BIT STRING whose content is DER. */
  prefix?: Buffer;
  /** Length octets written instead of the minimal ones (a mutation). */
  lengthOctets?: Buffer;
  /** BER indefinite length: 0x80 and an end-of-contents marker after the content. */
  indefinite?: boolean;
}

/** Reads DER (definite lengths, as in valid seeds); throws on anything else. */
export function readTree(bytes: Buffer): DerNode {
  const { node, end } = readNode(bytes, 0, true);
  if (end !== bytes.length) throw new Error('seed has trailing bytes');
  return node;
}

/** True when every constructed element, all the way down, holds whole elements (definite lengths only). */
export function isWellFormedDer(bytes: Buffer): boolean {
  try {
    readTree(bytes);
    return true;
  } catch {
    return false;
  }
}

function readNode(bytes: Buffer, offset: number, strict: boolean): { node: DerNode; end: number } {
  if (offset + 2 > bytes.length) throw new Error('truncated');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('multi-byte tag');
  let length = bytes[offset + 1]!;
  let start = offset + 2;
  if (length === 0x80) throw new Error('indefinite');
  if (length > 0x80) {
    const count = length & 0x7f;
    if (count > 4 || start + count > bytes.length) throw new Error('bad length');
    length = 0;
    for (let index = 0; index < count; index++) length = length * 256 + bytes[start + index]!;
    start += count;
  }
  const end = start + length;
  if (end > bytes.length) throw new Error('overflow');
  const content = bytes.subarray(start, end);
  if (tag & 0x20) return { node: { tag, children: readAll(content) }, end };
  if (strict && tag === 0x04 && content.length > 1) {
    const inner = tryReadAll(content);
    if (inner) return { node: { tag, children: inner }, end };
  }
  if (strict && tag === 0x03 && content.length > 2 && content[0] === 0) {
    const inner = tryReadAll(content.subarray(1));
    if (inner) return { node: { tag, prefix: Buffer.from([0]), children: inner }, end };
  }
  return { node: { tag, content: Buffer.from(content) }, end };
}

function readAll(bytes: Buffer): DerNode[] {
  const nodes: DerNode[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const { node, end } = readNode(bytes, offset, true);
    nodes.push(node);
    offset = end;
  }
  return nodes;
}

function tryReadAll(bytes: Buffer): DerNode[] | null {
  try {
    const nodes = readAll(bytes);
    return nodes.length === 1 ? nodes : null;
  } catch {
    return null;
  }
}

export function minimalLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

export function writeTree(node: DerNode): Buffer {
  const body = node.children ? Buffer.concat([node.prefix ?? Buffer.alloc(0), ...node.children.map(writeTree)]) : node.content!;
  if (node.indefinite) return Buffer.concat([Buffer.from([node.tag, 0x80]), body, Buffer.from([0, 0])]);
  return Buffer.concat([Buffer.from([node.tag]), node.lengthOctets ?? minimalLength(body.length), body]);
}

function clone(node: DerNode): DerNode {
  return { ...node, ...(node.children ? { children: node.children.map(clone) } : {}), ...(node.content ? { content: Buffer.from(node.content) } : {}) };
}

/** Every node in document order, with its parent. */
function flatten(root: DerNode): { node: DerNode; parent: DerNode | null }[] {
  const result: { node: DerNode; parent: DerNode | null }[] = [];
  const visit = (node: DerNode, parent: DerNode | null) => {
    result.push({ node, parent });
    node.children?.forEach((child) => visit(child, node));
  };
  visit(root, null);
  return result;
}

const bodyLength = (node: DerNode): number => (node.children ? writeTree({ ...node, lengthOctets: Buffer.from([0]), indefinite: false }).length - 2 : node.content!.length);

export type LengthForm = 'plus-one' | 'minus-one' | 'zero' | 'huge' | 'five-octets' | 'non-minimal' | 'indefinite' | 'random';

export type TreeMutation =
  | { kind: 'length'; pick: number; form: LengthForm; random: number }
  | { kind: 'tag'; pick: number; tag: number }
  | { kind: 'content'; pick: number; bytes: Uint8Array }
  | { kind: 'duplicate'; pick: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'child-overflow'; pick: number; by: number }
  | { kind: 'wrap'; pick: number; tag: number };

export type ByteMutation =
  | { kind: 'bit-flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'trailing'; bytes: Uint8Array };

const INTERESTING_TAGS = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x14, 0x16, 0x17, 0x18, 0x1c, 0x1e, 0x1f, 0x30, 0x31, 0x80, 0x82, 0x86, 0x87, 0xa0, 0xa1, 0xa2, 0xa3, 0xff];

export const treeMutation: fc.Arbitrary<TreeMutation> = fc.oneof(
  fc.record({
    kind: fc.constant('length' as const),
    pick: fc.nat(),
    form: fc.constantFrom<LengthForm>('plus-one', 'minus-one', 'zero', 'huge', 'five-octets', 'non-minimal', 'indefinite', 'random'),
    random: fc.nat(),
  }),
  fc.record({ kind: fc.constant('tag' as const), pick: fc.nat(), tag: fc.oneof(fc.constantFrom(...INTERESTING_TAGS), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ kind: fc.constant('content' as const), pick: fc.nat(), bytes: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('child-overflow' as const), pick: fc.nat(), by: fc.integer({ min: 1, max: 300 }) }),
  fc.record({ kind: fc.constant('wrap' as const), pick: fc.nat(), tag: fc.constantFrom(0x30, 0x31, 0x04, 0xa0) }),
);

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('bit-flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('trailing' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

/** Applies tree mutations to a copy of `root` (picks are taken modulo the node count). */
export function mutateTree(root: DerNode, mutations: readonly TreeMutation[]): DerNode {
  const copy = clone(root);
  for (const mutation of mutations) {
    const nodes = flatten(copy);
    const { node, parent } = nodes[mutation.pick % nodes.length]!;
    switch (mutation.kind) {
      case 'length':
        applyLength(node, mutation.form, mutation.random);
        break;
      case 'tag':
        node.tag = mutation.tag;
        break;
      case 'content':
        delete node.children;
        delete node.prefix;
        node.content = Buffer.from(mutation.bytes);
        break;
      case 'duplicate':
        if (parent?.children) parent.children.splice(parent.children.indexOf(node), 0, clone(node));
        break;
      case 'remove':
        if (parent?.children) parent.children.splice(parent.children.indexOf(node), 1);
        break;
      case 'child-overflow': {
        // The last child claims more bytes than its parent holds (a nested length overflow).
        const last = node.children?.[node.children.length - 1];
        if (last) last.lengthOctets = minimalLength(bodyLength(last) + mutation.by);
        break;
      }
      case 'wrap':
        if (parent?.children) parent.children.splice(parent.children.indexOf(node), 1, { tag: mutation.tag, children: [node] });
        break;
    }
  }
  return copy;
}

function applyLength(node: DerNode, form: LengthForm, random: number): void {
  const length = bodyLength(node);
  switch (form) {
    case 'plus-one':
      node.lengthOctets = minimalLength(length + 1);
      return;
    case 'minus-one':
      node.lengthOctets = minimalLength(Math.max(0, length - 1));
      return;
    case 'zero':
      node.lengthOctets = Buffer.from([0]);
      return;
    case 'huge':
      node.lengthOctets = Buffer.from([0x84, 0xff, 0xff, 0xff, 0xff]);
      return;
    case 'five-octets':
      node.lengthOctets = Buffer.from([0x85, 0, 0, 0, 0, length & 0xff]);
      return;
    case 'non-minimal': {
      // BER: the long form with a leading zero octet (valid BER, never DER).
      const minimal = minimalLength(length);
      node.lengthOctets = minimal.length === 1 ? Buffer.from([0x81, length]) : Buffer.from([minimal[0]! + 1, 0, ...minimal.subarray(1)]);
      return;
    }
    case 'indefinite':
      node.indefinite = true;
      return;
    case 'random':
      node.lengthOctets = random % 2 === 0 ? Buffer.from([random % 256]) : Buffer.from([0x82, (random >> 8) & 0xff, random & 0xff]);
      return;
  }
}

export function mutateBytes(bytes: Buffer, mutations: readonly ByteMutation[]): Buffer {
  let result = Buffer.from(bytes);
  for (const mutation of mutations) {
    const at = result.length === 0 ? 0 : 'at' in mutation ? mutation.at % result.length : 0;
    switch (mutation.kind) {
      case 'bit-flip':
        if (result.length > 0) result[at]! ^= 1 << mutation.bit;
        break;
      case 'truncate':
        result = result.subarray(0, at);
        break;
      case 'insert':
        result = Buffer.concat([result.subarray(0, at), mutation.bytes, result.subarray(at)]);
        break;
      case 'delete':
        result = Buffer.concat([result.subarray(0, at), result.subarray(at + mutation.count)]);
        break;
      case 'trailing':
        result = Buffer.concat([result, mutation.bytes]);
        break;
    }
  }
  return result;
}

/** Short text of what was done, for failure messages and statistics. */
export function describeMutations(tree: readonly TreeMutation[], bytes: readonly ByteMutation[]): string {
  const parts = [...tree.map((m) => (m.kind === 'length' ? `length:${m.form}` : m.kind)), ...bytes.map((m) => m.kind)];
  return parts.length ? parts.join('+') : 'none';
}
