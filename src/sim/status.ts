// Status bodies exactly as the apiserver writes them (SPEC-kubernetes.md 1.5, 2.5).
import type { Status } from '../kube/types.ts';

export function failure(code: number, reason: string, message: string, details?: Status['details']): Status {
  // The apiserver's key order: details (when present) before code.
  return details === undefined
    ? { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }
    : { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code };
}

export const unauthorized = (): Status => failure(401, 'Unauthorized', 'Unauthorized');

export const badRequest = (message: string): Status => failure(400, 'BadRequest', message);

/** 404 for an object of `resource` (plural) in API group `group` ('' = core). */
export function objectNotFound(resource: string, name: string, group = ''): Status {
  if (group === '') return failure(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
  const details: Status['details'] & { group?: string } = { name, group, kind: resource };
  return failure(404, 'NotFound', `${resource}.${group} "${name}" not found`, details);
}

export const podNotFound = (name: string): Status => objectNotFound('pods', name);

export const namespaceNotFound = (name: string): Status => objectNotFound('namespaces', name);

export const pathNotFound = (): Status =>
  failure(404, 'NotFound', 'the server could not find the requested resource', {});

export const methodNotAllowed = (method: string): Status =>
  failure(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`, {});

export const expired = (message: string): Status => failure(410, 'Expired', message);

export const tooOldResourceVersion = (requested: number, oldest: number): Status =>
  expired(`too old resource version: ${requested} (${oldest})`);

/** 422 Invalid with one field cause. `kind` is e.g. PodLogOptions or ListOptions. */
export function invalid(kind: string, name: string, field: string, detail: string, group?: string): Status {
  const details: Status['details'] & { group?: string } = {
    name,
    ...(group === undefined ? {} : { group }),
    kind,
    causes: [{ reason: 'FieldValueInvalid', message: detail, field }],
  };
  const qualified = group === undefined ? kind : `${kind}.${group}`;
  return failure(422, 'Invalid', `${qualified} "${name}" is invalid: ${field}: ${detail}`, details);
}

export const internalError = (message: string): Status =>
  failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });

export const tooManyRequests = (): Status =>
  failure(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: 1 } as Status['details']);

export const serviceUnavailable = (): Status =>
  failure(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
