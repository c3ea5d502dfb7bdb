// A throw-away CA and a server certificate for 127.0.0.1 signed by it, generated at start, so clients verify
// the server against the kubeconfig's certificate-authority-data end to end.
import { generate } from 'selfsigned';

export interface TlsMaterial {
  /** PEM of the CA that signed the server certificate (goes into the kubeconfig). */
  caCert: string;
  cert: string;
  key: string;
}

export async function generateTls(): Promise<TlsMaterial> {
  const notAfterDate = new Date(Date.now() + 7 * 24 * 3600 * 1000);
  const ca = await generate([{ name: 'commonName', value: 'k8s-tailer-sim-ca' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'k8s-tailer-sim' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });
  return { caCert: ca.cert, cert: server.cert, key: server.private };
}
