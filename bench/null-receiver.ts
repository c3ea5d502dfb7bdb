// A Loki push endpoint that reads each body and answers 204 without decoding it. For throughput runs only: on a
// 2-core machine, decoding every request (test/loki-receiver.ts, discard mode) costs about as much CPU as the
// tailer itself and would measure the receiver. Lines are counted by the tailer's own metrics instead.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface NullReceiver {
  readonly url: string;
  readonly stats: { requests: number; bodyBytes: number; rejected: number };
  close(): Promise<void>;
}

export async function startNullReceiver(): Promise<NullReceiver> {
  const stats = { requests: 0, bodyBytes: 0, rejected: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const ok = req.method === 'POST' && req.url === '/loki/api/v1/push' && req.headers['content-type'] === 'application/x-protobuf';
    req.on('data', (chunk: Buffer) => {
      stats.bodyBytes += chunk.length;
    });
    req.on('end', () => {
      stats.requests++;
      if (!ok) stats.rejected++;
      res.writeHead(ok ? 204 : 400).end(ok ? undefined : 'expected a protobuf POST to /loki/api/v1/push\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
