// Text that goes into protobuf strings and label values must be valid UTF-8. Followers decode bytes with
// replacement characters already, but a JS string can still hold lone surrogates (from JSON escapes, or from
// cutting a string between the halves of a pair), which encoders turn into invalid UTF-8 that Loki rejects.

/** The string with every lone surrogate replaced by U+FFFD; the same string when it is already well formed. */
export function repairUtf8(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed();
}

/** UTF-8 size of a well-formed string. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Byte offset of the last character boundary at or before `offset` in UTF-8 `bytes`. */
export function utf8Boundary(bytes: Uint8Array, offset: number): number {
  if (offset >= bytes.length) return bytes.length;
  let cut = offset;
  // Continuation bytes are 10xxxxxx: step back to the first byte of the character that straddles the cut.
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--;
  return cut;
}

/** The longest prefix of `text` whose UTF-8 encoding fits in `maxBytes`, never splitting a character. */
export function utf8Prefix(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  return bytes.toString('utf8', 0, utf8Boundary(bytes, maxBytes));
}
