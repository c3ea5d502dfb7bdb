// The file output: one line per log line, as text or JSON lines, appended. Each batch goes out in a single
// write, so a line is never split or interleaved with another writer's partial line.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Batch } from '../pipeline/block.ts';
import type { LogEntry, Sink } from '../pipeline/entry.ts';
import { formatTimestamp } from '../time/timestamp.ts';

export type FileFormat = 'text' | 'json';

export function formatEntry(e: LogEntry, format: FileFormat): string {
  const t = e.target;
  if (format === 'json') {
    return JSON.stringify({
      ts: formatTimestamp(e.ts),
      namespace: t.namespace,
      pod: t.pod,
      pod_uid: t.podUid,
      container: t.container,
      restart: e.restart,
      line: e.line,
    });
  }
  return `${formatTimestamp(e.ts)} ${t.namespace}/${t.pod}/${t.container} ${e.line}`;
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
    let text = '';
    for (const block of batch) for (let i = 0; i < block.length; i++) text += formatEntry(block.entry(i), this.#format) + '\n';
    if (text === '') return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#out.write(text, (err) => (err ? reject(new Error(`${this.name}: write failed: ${err.message}`)) : resolve()));
    });
  }

  async close(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    await new Promise<void>((resolve) => file.end(resolve));
  }
}
