// HTTP to one Loki: a keep-alive undici Pool, a timeout on every request, and failures sorted into the classes
// the sink reacts to (an HTTP answer, a timeout, a network error).
import { Pool } from 'undici';
import type { LokiEndpoint } from './endpoint.ts';

export interface TransportOptions {
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly caPem?: string;
  readonly insecureSkipVerify?: boolean;
  /** Parallel connections; pushes are sequential, the spare one serves readiness probes. */
  readonly connections?: number;
}

export type PushOutcome =
  | { readonly kind: 'answer'; readonly status: number; readonly body: string; readonly retryAfter?: string }
  | { readonly kind: 'timeout' | 'network'; readonly error: string };

export interface ProbeResult {
  readonly reachable: boolean;
  readonly status?: number;
  readonly error?: string;
}

/** Error bodies are short texts; anything longer is cut so a misbehaving proxy cannot fill memory or logs. */
const MAX_ERROR_BODY = 4096;

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = 'code' in error && typeof error.code === 'string' ? `${error.code}: ` : '';
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${code}${error.message}${cause}`;
}

function isTimeout(error: unknown, timeout: AbortSignal): boolean {
  if (timeout.aborted) return true;
  return error instanceof Error && 'code' in error && TIMEOUT_CODES.has(String(error.code));
}

export class LokiTransport {
  readonly #endpoint: LokiEndpoint;
  readonly #options: TransportOptions;
  readonly #pool: Pool;

  constructor(endpoint: LokiEndpoint, options: TransportOptions) {
    this.#endpoint = endpoint;
    this.#options = options;
    this.#pool = new Pool(endpoint.origin, {
      connections: options.connections ?? 2,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: {
        timeout: options.timeoutMs,
        ...(options.caPem === undefined ? {} : { ca: options.caPem }),
        ...(options.insecureSkipVerify === true ? { rejectUnauthorized: false } : {}),
      },
    });
  }

  /** POSTs one body. Rejects only when `signal` aborts (the sink is closing); every other failure is an outcome. */
  async push(body: Uint8Array, contentType: string, signal: AbortSignal): Promise<PushOutcome> {
    const timeout = AbortSignal.timeout(this.#options.timeoutMs);
    try {
      const response = await this.#pool.request({
        method: 'POST',
        path: this.#endpoint.pushPath,
        headers: { ...this.#options.headers, 'content-type': contentType },
        body,
        signal: AbortSignal.any([signal, timeout]),
      });
      const text = (await response.body.text()).slice(0, MAX_ERROR_BODY);
      const retryAfter = response.headers['retry-after'];
      return {
        kind: 'answer',
        status: response.statusCode,
        body: text,
        ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
      };
    } catch (error) {
      signal.throwIfAborted();
      return { kind: isTimeout(error, timeout) ? 'timeout' : 'network', error: describe(error) };
    }
  }

  /** GET {base}/ready: any HTTP answer means Loki (or a proxy in front of it) is reachable. */
  async probe(timeoutMs: number = this.#options.timeoutMs): Promise<ProbeResult> {
    try {
      const response = await this.#pool.request({
        method: 'GET',
        path: this.#endpoint.readyPath,
        headers: this.#options.headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body.dump();
      return { reachable: true, status: response.statusCode };
    } catch (error) {
      return { reachable: false, error: describe(error) };
    }
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
