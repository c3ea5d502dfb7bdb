// The file output: one line per log line, as text or JSON lines, appended. Each batch goes out in a single
// write, so a line is never split or interleaved with another writer's partial line.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Batch } from '../pipeline/block.ts';
import type { Sink } from '../pipeline/entry.ts';
import { formatTimestamp } from '../time/timestamp.ts';

export type FileFormat = 'text' | 'json';

/** `2024-01-01T00:00:00.` */
const SECOND_PREFIX = 20;
/** `2024-01-01T00:00:00.000000000Z` */
const TIMESTAMP = SECOND_PREFIX + 10;
const JSON_HEAD = '{"ts":"';

/**
 * Writes timestamps as the kubelet prints them (nine fraction digits, UTC) into one buffer: the date and time once
 * per second, copied from the line before while the second lasts, and the nanoseconds as digits.
 */
class TimestampWriter {
  #second = Number.NaN;
  #at = 0;

  /** Writes at `pos`; returns the position after it. */
  write(out: Buffer, pos: number, sec: number, nsec: number): number {
    if (sec === this.#second) out.copyWithin(pos, this.#at, this.#at + SECOND_PREFIX);
    else {
      this.#second = sec;
      out.write(formatTimestamp({ sec, nsec: 0 }), pos, SECOND_PREFIX, 'latin1');
    }
    this.#at = pos;
    pos += SECOND_PREFIX;
    for (let d = 8, n = nsec; d >= 0; d--, n = Math.floor(n / 10)) out[pos + d] = 48 + (n % 10);
    out[pos + 9] = 0x5a;
    return pos + 10;
  }
}

/**
 * What a block's lines repeat (its pod and container, with the text around them): written as text once, then copied
 * from where it was written last.
 */
class Repeated {
  readonly bytes: number;
  readonly #text: string;
  #at = -1;

  constructor(text: string) {
    this.#text = text;
    this.bytes = Buffer.byteLength(text);
  }

  /** Writes at `pos`; returns the position after it. */
  write(out: Buffer, pos: number): number {
    if (this.#at < 0) out.write(this.#text, pos, this.bytes, 'utf8');
    else out.copyWithin(pos, this.#at, this.#at + this.bytes);
    this.#at = pos;
    return pos + this.bytes;
  }
}

/**
 * The text format of a batch, `TIMESTAMP NAMESPACE/POD/CONTAINER LINE` per line, as the bytes written. Built as
 * bytes, not text: a line read from a body is copied as it was read, and what repeats from line to line (the
 * second of the timestamp, the block's pod and container) is written once and copied. Formatting each line as a
 * string, then the batch as one, cost the file output more than reading the lines (bench/README.md, tenth round).
 */
export function textLines(batch: Batch): Buffer {
  const names = batch.map((block) => new Repeated(` ${block.target.namespace}/${block.target.pod}/${block.target.container} `));
  let size = 0;
  batch.forEach((block, b) => {
    for (let i = 0; i < block.length; i++) size += TIMESTAMP + names[b].bytes + block.utf8Bytes(i) + 1;
  });
  const out = Buffer.allocUnsafe(size);
  const timestamps = new TimestampWriter();
  let pos = 0;
  batch.forEach((block, b) => {
    for (let i = 0; i < block.length; i++) {
      pos = timestamps.write(out, pos, block.sec(i), block.nsec(i));
      pos = names[b].write(out, pos);
      const buffer = block.buffer(i);
      if (buffer === undefined) pos += out.write(block.text(i), pos, 'utf8');
      else pos += buffer.copy(out, pos, block.start(i), block.end(i));
      out[pos++] = 0x0a;
    }
  });
  return out;
}

/**
 * The JSON format of a batch: per line one object of the line with its timestamp, pod, container and restart,
 * in that order, as the bytes written. What a block's lines share is serialized once for the block and copied.
 */
export function jsonLines(batch: Batch): Buffer {
  const middles = batch.map((block) => {
    const t = block.target;
    const shared = JSON.stringify({ namespace: t.namespace, pod: t.pod, pod_uid: t.podUid, container: t.container, restart: block.restart });
    return new Repeated(`",${shared.slice(1, -1)},"line":`);
  });
  const lines: string[] = [];
  let size = 0;
  batch.forEach((block, b) => {
    for (let i = 0; i < block.length; i++) {
      const line = JSON.stringify(block.text(i));
      lines.push(line);
      size += JSON_HEAD.length + TIMESTAMP + middles[b].bytes + Buffer.byteLength(line) + 2;
    }
  });
  const out = Buffer.allocUnsafe(size);
  const timestamps = new TimestampWriter();
  let pos = 0;
  let next = 0;
  batch.forEach((block, b) => {
    for (let i = 0; i < block.length; i++) {
      pos += out.write(JSON_HEAD, pos, 'latin1');
      pos = timestamps.write(out, pos, block.sec(i), block.nsec(i));
      pos = middles[b].write(out, pos);
      pos += out.write(lines[next++], pos, 'utf8');
      out[pos++] = 0x7d;
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
