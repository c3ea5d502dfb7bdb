// Encode + compress throughput of Loki push bodies for 100-byte and 1 KiB lines, per CPU second: the hand-rolled
// protobuf writer the sink uses against protobufjs' reflection encoder, the native snappy binding against snappyjs.
// Run: node bench/encode.bench.ts [--seconds 2]
import { compressedPushRequest, encodePushJson, encodePushRequest } from '../src/sinks/loki/encode.ts';
import { StreamLabeler } from '../src/sinks/loki/labels.ts';
import { MetadataCache, plannedEntries, planRequests, type PlannedStream, type PushPlan } from '../src/sinks/loki/plan.ts';
import { pushRequestType } from '../src/sinks/loki/schema.ts';
import { loadNativeSnappy, snappyjs } from '../src/sinks/loki/snappy.ts';
import type { LineBlock } from '../src/pipeline/block.ts';
import { sinkBatches } from './micro.ts';

const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg === -1 ? 2 : Number(process.argv[secondsArg + 1]);

function reflectionEncode(streams: readonly PlannedStream[]): Uint8Array {
  const type = pushRequestType();
  return type
    .encode({
      streams: streams.map((stream) => ({
        labels: stream.labels,
        entries: plannedEntries(stream).map((entry) => ({
          timestamp: { seconds: entry.sec, nanos: entry.nsec },
          line: entry.line,
          structuredMetadata: entry.metadata.map(([name, value]) => ({ name, value })),
        })),
      })),
    })
    .finish();
}

const labeler = new StreamLabeler({}, () => undefined);
const metadataCache = new MetadataCache();
const PLAN_OPTIONS = { batchBytes: 1024 * 1024, maxLineBytes: 256_000, lineTooLong: 'truncate' } as const;

/** 1 MiB requests (the default batch) over 20 containers, each with the pipeline batch it was planned from. */
function requestsOf(lineBytes: number): { plans: PushPlan[]; batches: Map<PushPlan, LineBlock[]> } {
  const plans: PushPlan[] = [];
  const batches = new Map<PushPlan, LineBlock[]>();
  for (const batch of sinkBatches({ lines: Math.ceil((8 * 1024 * 1024) / lineBytes), lineBytes })) {
    // A pipeline batch of 1 MiB holds less than 1 MiB of text: one request.
    const [plan, more] = planRequests(batch, labeler, metadataCache, PLAN_OPTIONS);
    if (more !== undefined) throw new Error('a 1 MiB batch became more than one request');
    plans.push(plan);
    batches.set(plan, batch);
  }
  return { plans, batches };
}

interface Row {
  line: string;
  encoder: string;
  linesPerSec: number;
  mbPerSec: number;
  ratio: number;
}

function measure(encoder: string, lineBytes: number, plans: PushPlan[], encode: (plan: PushPlan) => Uint8Array): Row {
  let lines = 0;
  let bytes = 0;
  let raw = 0;
  let packed = 0;
  for (const plan of plans.slice(0, 2)) encode(plan); // warm up
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const started = cpu();
  let seconds = 0;
  for (let i = 0; seconds < SECONDS; i++) {
    const plan = plans[i % plans.length];
    const body = encode(plan);
    lines += plan.entries;
    bytes += plan.bytes;
    packed += body.length;
    raw += plan.bytes;
    seconds = cpu() - started;
  }
  return {
    line: `${lineBytes} B`,
    encoder,
    linesPerSec: lines / seconds,
    mbPerSec: bytes / seconds / 1e6,
    ratio: raw / packed,
  };
}

const rows: Row[] = [];
const native = loadNativeSnappy();
for (const lineBytes of [100, 1024]) {
  const { plans, batches } = requestsOf(lineBytes);
  const bodies = new Map(plans.map((plan) => [plan, encodePushRequest(plan.streams)]));
  rows.push(
    measure('plan + encode + snappy (sink write)', lineBytes, plans, (plan) => {
      const [planned] = planRequests(batches.get(plan) ?? [], labeler, metadataCache, PLAN_OPTIONS);
      return compressedPushRequest(planned.streams);
    }),
  );
  if ('snappy' in native) {
    const fast = native.snappy;
    rows.push(measure('hand-rolled + native snappy (sink)', lineBytes, plans, (plan) => compressedPushRequest(plan.streams)));
    rows.push(measure('native snappy only', lineBytes, plans, (plan) => fast.compress(bodies.get(plan) ?? new Uint8Array())));
  }
  rows.push(measure('hand-rolled + snappyjs', lineBytes, plans, (plan) => snappyjs.compress(encodePushRequest(plan.streams))));
  rows.push(measure('reflection + snappyjs', lineBytes, plans, (plan) => snappyjs.compress(reflectionEncode(plan.streams))));
  rows.push(measure('hand-rolled protobuf only', lineBytes, plans, (plan) => encodePushRequest(plan.streams)));
  rows.push(measure('reflection protobuf only', lineBytes, plans, (plan) => reflectionEncode(plan.streams)));
  rows.push(measure('snappyjs only', lineBytes, plans, (plan) => snappyjs.compress(bodies.get(plan) ?? new Uint8Array())));
  rows.push(measure('JSON (no compression)', lineBytes, plans, (plan) => Buffer.from(encodePushJson(plan.streams))));
}

const header = ['line', 'encoder', 'lines/s', 'MB/s of text', 'text/body'];
const table = rows.map((row) => [
  row.line,
  row.encoder,
  Math.round(row.linesPerSec).toLocaleString('en-US'),
  row.mbPerSec.toFixed(1),
  row.ratio.toFixed(2),
]);
const widths = header.map((title, i) => Math.max(title.length, ...table.map((cells) => cells[i].length)));
const format = (cells: string[]): string =>
  `| ${cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
console.log(`Loki push body encoding, ${SECONDS} CPU s per row, 1 MiB requests, node ${process.version}${'error' in native ? `, no native snappy: ${native.error}` : ''}`);
console.log(format(header));
console.log(`|${widths.map((width, i) => (i < 2 ? `${'-'.repeat(width + 1)}-` : `${'-'.repeat(width + 1)}:`)).join('|')}|`);
for (const cells of table) console.log(format(cells));
