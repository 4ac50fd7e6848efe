/** Kubeconfig files pointing at the simulated API server, for client-node and real kubectl. */
import { stringify } from 'yaml';
import type { KeyPair } from './pki.js';

export interface KubeconfigOptions {
  /** Bearer token (from `issueToken` or `serviceAccountToken`). */
  token?: string;
  /** Client certificate and key (from `issueClientCert`). */
  clientCert?: KeyPair;
  /** Context, cluster and user name. Default `sim`. */
  context?: string;
  /** The context's default namespace. */
  namespace?: string;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export function kubeconfigYaml(server: string, caPem: string, options: KubeconfigOptions): string {
  const name = options.context ?? 'sim';
  const user: Record<string, string> = {};
  if (options.token) user.token = options.token;
  if (options.clientCert) {
    user['client-certificate-data'] = b64(options.clientCert.certPem);
    user['client-key-data'] = b64(options.clientCert.keyPem);
  }
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name, user }],
    contexts: [{ name, context: { cluster: name, user: name, ...(options.namespace ? { namespace: options.namespace } : {}) } }],
    'current-context': name,
  });
}
