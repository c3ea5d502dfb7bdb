// The file output: one line per log line, as text or JSON lines, appended. Each batch goes out in a single
// write, so a line is never split or interleaved with another writer's partial line.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Batch } from '../pipeline/block.ts';
import type { Sink } from '../pipeline/entry.ts';
import { formatTimestamp } from '../time/timestamp.ts';

export type FileFormat = 'text' | 'json';

/**
 * The JSON format of a batch: per line one object of the line with its timestamp, pod, container and restart,
 * in that order. What a block's lines share is serialized once for the block.
 */
export function jsonLines(batch: Batch): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (const block of batch) {
    const t = block.target;
    const shared = JSON.stringify({ namespace: t.namespace, pod: t.pod, pod_uid: t.podUid, container: t.container, restart: block.restart });
    const middle = `,${shared.slice(1, -1)},"line":`;
    for (let i = 0; i < block.length; i++) {
      const line = `{"ts":"${formatTimestamp(block.ts(i))}"${middle}${JSON.stringify(block.text(i))}}\n`;
      lines.push(line);
      size += Buffer.byteLength(line);
    }
  }
  // Written line by line into one buffer: joined first, the batch was one string too large for V8's young
  // generation, a fresh allocation of its own every batch.
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const line of lines) pos += out.write(line, pos);
  return out;
}

/** `2024-01-01T00:00:00.` */
const SECOND_PREFIX = 20;
/** The timestamp with its nine fraction digits, `Z` and the space after it. */
const TIMESTAMP = SECOND_PREFIX + 9 + 2;

/**
 * The text format of a batch, `TIMESTAMP NAMESPACE/POD/CONTAINER LINE` per line, as the bytes written. Built as
 * bytes, not text: a line read from a body is copied as it was read, and what repeats from line to line (the
 * second of the timestamp, the block's pod and container) is written once and copied. Formatting each line as a
 * string, then the batch as one, cost the file output more than reading the lines (bench/README.md, tenth round).
 */
export function textLines(batch: Batch): Buffer {
  let size = 0;
  const names: string[] = [];
  const nameBytes: number[] = [];
  for (const block of batch) {
    const t = block.target;
    const name = `${t.namespace}/${t.pod}/${t.container} `;
    const bytes = Buffer.byteLength(name);
    names.push(name);
    nameBytes.push(bytes);
    for (let i = 0; i < block.length; i++) size += TIMESTAMP + bytes + block.utf8Bytes(i) + 1;
  }
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  let second = Number.NaN;
  let secondAt = 0;
  batch.forEach((block, b) => {
    const length = nameBytes[b];
    let nameAt = -1;
    for (let i = 0; i < block.length; i++) {
      const sec = block.sec(i);
      if (sec === second) out.copyWithin(pos, secondAt, secondAt + SECOND_PREFIX);
      else {
        second = sec;
        out.write(formatTimestamp({ sec, nsec: 0 }), pos, SECOND_PREFIX, 'latin1');
      }
      secondAt = pos;
      pos += SECOND_PREFIX;
      let nsec = block.nsec(i);
      for (let d = 8; d >= 0; d--) {
        out[pos + d] = 48 + (nsec % 10);
        nsec = Math.floor(nsec / 10);
      }
      out[pos + 9] = 0x5a;
      out[pos + 10] = 0x20;
      pos += 11;
      if (nameAt < 0) out.write(names[b], pos, length, 'utf8');
      else out.copyWithin(pos, nameAt, nameAt + length);
      nameAt = pos;
      pos += length;
      const buffer = block.buffer(i);
      if (buffer === undefined) pos += out.write(block.text(i), pos, 'utf8');
      else pos += buffer.copy(out, pos, block.start(i), block.end(i));
      out[pos++] = 0x0a;
    }
  });
  return out;
}

export class FileSink implements Sink {
  readonly name: string;
  readonly #format: FileFormat;
  readonly #out: NodeJS.WritableStream;
  readonly #file: WriteStream | undefined;

  private constructor(name: string, format: FileFormat, out: NodeJS.WritableStream, file: WriteStream | undefined) {
    this.name = name;
    this.#format = format;
    this.#out = out;
    this.#file = file;
  }

  /** `-` is stdout. The file is created (with its folder) if missing and appended to. */
  static async open(target: string, format: FileFormat): Promise<FileSink> {
    if (target === '-') return new FileSink('stdout', format, process.stdout, undefined);
    await mkdir(path.dirname(path.resolve(target)), { recursive: true }).catch((err: Error) => {
      throw new Error(`cannot open output file ${target}: ${err.message}`);
    });
    const file = createWriteStream(target, { flags: 'a' });
    await new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve());
      file.once('error', (err) => reject(new Error(`cannot open output file ${target}: ${err.message}`)));
    });
    return new FileSink(`file:${target}`, format, file, file);
  }

  write(batch: Batch): Promise<void> {
    const data = this.#format === 'text' ? textLines(batch) : jsonLines(batch);
    if (data.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#out.write(data, (err) => (err ? reject(new Error(`${this.name}: write failed: ${err.message}`)) : resolve()));
    });
  }

  async close(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    await new Promise<void>((resolve) => file.end(resolve));
  }
}
