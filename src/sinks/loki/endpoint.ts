// Where to push: users give Loki's base URL (`http://loki:3100`, or a gateway prefix `https://gw/loki`) or the
// full push URL; both are accepted. Credentials embedded in the URL are lifted out so they never reach a log.

export const PUSH_PATH = '/loki/api/v1/push';

export interface LokiEndpoint {
  /** scheme://host:port */
  readonly origin: string;
  /** Path (with query) of the push endpoint. */
  readonly pushPath: string;
  /** Path of the readiness endpoint next to it. */
  readonly readyPath: string;
  /** The URL without credentials, for logs and errors. */
  readonly display: string;
  /** `user:password@` from the URL, if any. */
  readonly basicAuth?: { readonly user: string; readonly password: string };
}

export function parseLokiUrl(text: string): LokiEndpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`Loki URL ${JSON.stringify(text)} is not a URL: give e.g. http://loki:3100`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`Loki URL ${url.origin}${url.pathname} must start with http:// or https://`);
  }
  const basicAuth =
    url.username === ''
      ? undefined
      : { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  const trimmed = url.pathname.replace(/\/+$/, '');
  const base = trimmed.endsWith(PUSH_PATH) ? trimmed.slice(0, -PUSH_PATH.length) : trimmed;
  const pushPath = `${base}${PUSH_PATH}${url.search}`;
  return {
    origin: url.origin,
    pushPath,
    readyPath: `${base}/ready`,
    display: `${url.origin}${pushPath}`,
    ...(basicAuth === undefined ? {} : { basicAuth }),
  };
}
