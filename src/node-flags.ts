// The flags every launcher passes to node: bin/tailer, `npm start`, the image's ENTRYPOINT, and the benchmark, soak
// and verify scripts that start the tailer as a child (test/deploy.test.ts checks that they agree).
//
// V8 sizes its young generation from the machine's memory, not from what the process needs: on a 24 GB host it grew
// to 128 MiB while following 1,000 idle containers, half of the tailer's memory per container (bench/README.md).
// Inside a pod V8 takes the cgroup's limit instead, so the same flag also makes a pod behave like the benchmark.
// 8 MiB, not less: under a 1 KiB-line flood 4 MiB semi-spaces meant ~44 scavenges a second, promoted every batch
// waiting for its push and tripled the major GCs (4.2–4.9 CPU s per M lines against 3.7–4.2 with 8 MiB, which
// kept pace with kubectl where 4 MiB reached 0.91 of its rate); the idle fan-out was no bigger with 8 (bench/README.md).
//
// No allocation-site pretenuring: V8 sees lines' objects outlive a scavenge while they wait in a batch and then
// allocates them straight into the old generation, which under a 1 KiB-line flood meant a mark-compact every 0.4 s
// (each marking the ~35 MiB the tailer holds anyway) and its GC threads at 0.17 of a core. Without it they die young:
// 4.8–5.1 CPU µs per line against 5.9–6.2, and at 100 B the same or a little less (bench/README.md, seventh round).
//
// An initial old generation of 96 MiB: otherwise V8 sets the limit for the next mark-compact just above what the
// last one left (35–40 MiB under a 100 B-line flood), and with little promoted per line (Loki requests refer to runs
// of block lines, not an object per line) it marked the whole heap every ~0.5 s, 84 times in 45 s in one run; with
// 96 MiB, 8 times. More lets garbage of idle followers pile up: at 1,000 idle containers the heap held 80 MiB after
// 90 s with 128, 68 with 96, 57–58 with 64 or none, and RSS per container stayed within the noise up to 96
// (bench/README.md, eighth round).
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--no-allocation-site-pretenuring', '--initial-old-space-size=96'];
