/** Unpadded base64url (RFC 4648 §5) without Node built-ins, for pure core/ code. */

export const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function encodeBase64url(bytes: ArrayLike<number>): string {
  let text = '';
  for (let index = 0; index < bytes.length; index += 3) {
    const chunk = (bytes[index]! << 16) | ((bytes[index + 1] ?? 0) << 8) | (bytes[index + 2] ?? 0);
    const characters = Math.ceil((Math.min(3, bytes.length - index) * 8) / 6);
    for (let position = 0; position < characters; position++) text += BASE64URL_ALPHABET[(chunk >> (18 - position * 6)) & 0x3f];
  }
  return text;
}
