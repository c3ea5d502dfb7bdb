// Snappy block-format compressor (the format Loki expects; not the framed one). The reference algorithm, as
// snappyjs implements it, spends most of its time re-reading four input bytes per probe; this one keeps a rolling
// 32-bit window and stores each probed window beside its position in the hash table, so a probe costs one input
// byte read and a match candidate is checked without touching the input. Output is valid snappy that any
// decoder reads (checked against snappyjs' decompressor in snappy.test.ts); measured in bench/encode.bench.ts.

const BLOCK_SIZE = 1 << 16;
const MAX_HASH_BITS = 14;
/** Bytes at the end of a block never searched for matches (as in the reference implementation). */
const INPUT_MARGIN = 15;
const HASH_MULTIPLIER = 0x1e35a7bd;

const positions = new Uint16Array(1 << MAX_HASH_BITS);
const windows = new Int32Array(1 << MAX_HASH_BITS);

function load32(data: Uint8Array, pos: number): number {
  return data[pos] | (data[pos + 1] << 8) | (data[pos + 2] << 16) | (data[pos + 3] << 24);
}

/** Worst-case output size for `length` input bytes. */
export function maxCompressedLength(length: number): number {
  return 32 + length + Math.floor(length / 6);
}

function putVarint(value: number, out: Uint8Array, op: number): number {
  while (value >= 0x80) {
    out[op++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[op++] = value;
  return op;
}

function emitLiteral(input: Uint8Array, from: number, length: number, out: Uint8Array, op: number): number {
  const n = length - 1;
  if (n < 60) {
    out[op++] = n << 2;
  } else if (n < 0x100) {
    out[op++] = 60 << 2;
    out[op++] = n;
  } else {
    out[op++] = 61 << 2;
    out[op++] = n & 0xff;
    out[op++] = n >>> 8;
  }
  if (length > 32) {
    out.set(input.subarray(from, from + length), op);
  } else {
    for (let i = 0; i < length; i++) out[op + i] = input[from + i];
  }
  return op + length;
}

function emitCopyUpTo64(out: Uint8Array, op: number, offset: number, length: number): number {
  if (length < 12 && offset < 2048) {
    out[op++] = 1 | ((length - 4) << 2) | ((offset >>> 8) << 5);
    out[op++] = offset & 0xff;
  } else {
    out[op++] = 2 | ((length - 1) << 2);
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
  }
  return op;
}

function emitCopy(out: Uint8Array, op: number, offset: number, length: number): number {
  while (length >= 68) {
    op = emitCopyUpTo64(out, op, offset, 64);
    length -= 64;
  }
  if (length > 64) {
    op = emitCopyUpTo64(out, op, offset, 60);
    length -= 60;
  }
  return emitCopyUpTo64(out, op, offset, length);
}

function compressBlock(input: Uint8Array, start: number, end: number, out: Uint8Array, op: number): number {
  const size = end - start;
  let bits = 1;
  while (1 << bits <= size && bits <= MAX_HASH_BITS) bits++;
  bits--;
  const shift = 32 - bits;
  positions.fill(0, 0, 1 << bits);
  // A zero window in an untouched slot would look like a match for four zero bytes: seed with what is at `start`.
  windows.fill(size >= 4 ? load32(input, start) : 0, 0, 1 << bits);
  let nextEmit = start;
  if (size >= INPUT_MARGIN) {
    const limit = end - INPUT_MARGIN;
    let ip = start + 1;
    let window = load32(input, ip);
    for (;;) {
      // Probe for a 4-byte match, stepping faster the longer nothing matches (incompressible input).
      let misses = 32;
      let candidate = 0;
      for (;;) {
        const hash = Math.imul(window, HASH_MULTIPLIER) >>> shift;
        const seen = windows[hash];
        candidate = start + positions[hash];
        positions[hash] = ip - start;
        windows[hash] = window;
        if (seen === window && candidate < ip) break;
        const step = misses++ >>> 5;
        ip += step;
        if (ip > limit) {
          if (nextEmit < end) op = emitLiteral(input, nextEmit, end - nextEmit, out, op);
          return op;
        }
        window = step === 1 ? (window >>> 8) | (input[ip + 3] << 24) : load32(input, ip);
      }
      op = emitLiteral(input, nextEmit, ip - nextEmit, out, op);
      // Emit copies while the position right after one starts another match.
      for (;;) {
        let matched = 4;
        while (ip + matched < end && input[ip + matched] === input[candidate + matched]) matched++;
        op = emitCopy(out, op, ip - candidate, matched);
        ip += matched;
        nextEmit = ip;
        if (ip >= limit) {
          if (nextEmit < end) op = emitLiteral(input, nextEmit, end - nextEmit, out, op);
          return op;
        }
        const before = load32(input, ip - 1);
        const beforeHash = Math.imul(before, HASH_MULTIPLIER) >>> shift;
        positions[beforeHash] = ip - 1 - start;
        windows[beforeHash] = before;
        window = load32(input, ip);
        const hash = Math.imul(window, HASH_MULTIPLIER) >>> shift;
        const seen = windows[hash];
        candidate = start + positions[hash];
        positions[hash] = ip - start;
        windows[hash] = window;
        if (seen !== window || candidate >= ip) break;
      }
      ip++;
      window = load32(input, ip);
    }
  }
  if (nextEmit < end) op = emitLiteral(input, nextEmit, end - nextEmit, out, op);
  return op;
}

/** Snappy block format: varint of the uncompressed length, then 64 KiB blocks of literals and copies. */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(maxCompressedLength(input.length));
  let op = putVarint(input.length, out, 0);
  for (let pos = 0; pos < input.length; pos += BLOCK_SIZE) {
    op = compressBlock(input, pos, Math.min(input.length, pos + BLOCK_SIZE), out, op);
  }
  return out.subarray(0, op);
}
