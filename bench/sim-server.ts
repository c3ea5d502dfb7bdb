// The simulated cluster in a process of its own, so a benchmarked reader's CPU and memory are only its own.
// Usage: node bench/sim-server.ts '<SimOptions as JSON>' KUBECONFIG_OUT
// Prints one JSON line {url, kubeconfig} when listening, then answers one JSON line per command read on stdin:
// `stats` (the API server's stats plus this process' CPU seconds and RSS), `drop` (every connection destroyed at
// once). Exits when stdin ends.
import { createInterface } from 'node:readline';
import { startSim, type SimOptions } from '../src/sim/index.ts';

const [optionsJson, kubeconfigPath] = process.argv.slice(2);
if (optionsJson === undefined || kubeconfigPath === undefined) {
  process.stderr.write("usage: node bench/sim-server.ts '<SimOptions JSON>' KUBECONFIG_OUT\n");
  process.exit(2);
}
const sim = await startSim(JSON.parse(optionsJson) as SimOptions);
await sim.writeKubeconfig(kubeconfigPath);
const reply = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
reply({ url: sim.url, kubeconfig: kubeconfigPath });

const commands = createInterface({ input: process.stdin });
commands.on('line', (command) => {
  switch (command.trim()) {
    case 'stats': {
      const usage = process.cpuUsage();
      reply({ ...sim.stats(), cpuSeconds: (usage.user + usage.system) / 1e6, rssBytes: process.memoryUsage.rss() });
      break;
    }
    case 'drop':
      sim.dropConnections();
      reply({ dropped: true });
      break;
    default:
      reply({ error: `unknown command "${command}": use stats or drop` });
  }
});
commands.on('close', () => void sim.close().then(() => process.exit(0)));
