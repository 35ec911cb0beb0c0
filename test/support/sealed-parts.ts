/** Tampering helpers for dot-separated sealed strings (`v2.<kek id>.<iv>.<ct>.<tag>`, `sb1.…`): change one base64url part. */

/** `blob` with its part `index` replaced by `change` of that part's bytes. */
export function withPart(blob: string, index: number, change: (part: Buffer) => Buffer): string {
  const parts = blob.split('.');
  parts[index] = change(Buffer.from(parts[index]!, 'base64url')).toString('base64url');
  return parts.join('.');
}

export const flipFirstBit = (part: Buffer): Buffer => {
  const copy = Buffer.from(part);
  copy[0]! ^= 0x01;
  return copy;
};
