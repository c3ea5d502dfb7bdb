// Secrets come from files (mounted Kubernetes secrets), never from flags that show up in `ps`.
import { readFileSync } from 'node:fs';

export interface LokiCredentialFiles {
  readonly passwordFile?: string;
  readonly bearerTokenFile?: string;
  readonly caFile?: string;
}

export interface LokiCredentials {
  readonly password?: string;
  readonly bearerToken?: string;
  readonly caPem?: string;
}

function readSecret(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new Error(`cannot read the Loki ${what} file ${path} (${reason}): check the path and its permissions`);
  }
}

/** Reads the given files; a password or token loses its trailing newline (`echo secret > file`). */
export function readLokiCredentials(files: LokiCredentialFiles): LokiCredentials {
  const credentials: { password?: string; bearerToken?: string; caPem?: string } = {};
  if (files.passwordFile !== undefined) {
    credentials.password = readSecret(files.passwordFile, 'password').replace(/\r?\n$/, '');
  }
  if (files.bearerTokenFile !== undefined) {
    const token = readSecret(files.bearerTokenFile, 'bearer token').trim();
    if (token === '') throw new Error(`the Loki bearer token file ${files.bearerTokenFile} is empty`);
    credentials.bearerToken = token;
  }
  if (files.caFile !== undefined) {
    const pem = readSecret(files.caFile, 'CA');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new Error(`the Loki CA file ${files.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    }
    credentials.caPem = pem;
  }
  return credentials;
}
