// The flags every launcher passes to node: bin/tailer, `npm start`, the image's ENTRYPOINT, and the benchmark, soak
// and verify scripts that start the tailer as a child (test/deploy.test.ts checks that they agree).
//
// V8 sizes its young generation from the machine's memory, not from what the process needs: on a 24 GB host it grew
// to 128 MiB while following 1,000 idle containers, half of the tailer's memory per container (bench/README.md).
// Inside a pod V8 takes the cgroup's limit instead, so the same flag also makes a pod behave like the benchmark.
// With 4 MiB semi-spaces the throughput benchmark showed no more CPU per line than with V8's choice.
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
