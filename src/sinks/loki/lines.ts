// Lines longer than Loki's max_line_size are rejected with `line_too_long` and lost: fit them before sending,
// either cut with a visible marker or as several consecutive entries, so nothing disappears without a trace.
import { repairUtf8, utf8Boundary, utf8Bytes } from './utf8.ts';

export type LineTooLong = 'truncate' | 'split';

/** Loki's default max_line_size is "256KB", which Loki parses as 256 000 bytes (not KiB). */
export const DEFAULT_MAX_LINE_BYTES = 256_000;

/** Below this a truncated line could not even hold its marker. */
export const MIN_MAX_LINE_BYTES = 64;

/** Appended to a cut line: says how many bytes of the original were left out. */
export function truncationMarker(omittedBytes: number): string {
  return `…[truncated ${omittedBytes} bytes]`;
}

/**
 * The line as one or more entries' texts, each valid UTF-8 and at most `maxBytes` long. A line that fits comes
 * back as `[line]` (repaired if it held lone surrogates).
 */
export function fitLine(line: string, maxBytes: number, mode: LineTooLong): string[] {
  const text = repairUtf8(line);
  if (text.length * 3 <= maxBytes) return [text];
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return [text];
  return mode === 'split' ? splitBytes(bytes, maxBytes) : [truncateBytes(bytes, maxBytes)];
}

function truncateBytes(bytes: Buffer, maxBytes: number): string {
  // The marker for the whole length is the longest it can be: reserve that, then state what was really cut.
  const reserve = utf8Bytes(truncationMarker(bytes.length));
  const cut = utf8Boundary(bytes, Math.max(0, maxBytes - reserve));
  return bytes.toString('utf8', 0, cut) + truncationMarker(bytes.length - cut);
}

function splitBytes(bytes: Buffer, maxBytes: number): string[] {
  const parts: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    // maxBytes is at least MIN_MAX_LINE_BYTES, wider than any character, so every part makes progress.
    const end = utf8Boundary(bytes, start + maxBytes);
    parts.push(bytes.toString('utf8', start, end));
    start = end;
  }
  return parts;
}
