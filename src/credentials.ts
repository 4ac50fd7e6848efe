/**
 * Grafana credentials from the cluster (`grafana-credentials`): with no password and no token,
 * the admin user and password are read from the one Secret the grafana container's
 * GF_SECURITY_ADMIN_USER / GF_SECURITY_ADMIN_PASSWORD env refers to (or the Secret the input
 * names), when the credentials may `get` it. No other Secret is ever read for this. The values
 * are masked the moment they are read.
 */
import { KubeError, type Cluster } from './cluster.js';
import { secrets } from './secrets.js';
import { inputCredentials, type GrafanaCredentials } from './services.js';
import type { Stack } from './stack/types.js';
import type { Settings } from './types.js';

export interface CredentialsRead {
  readonly credentials: GrafanaCredentials;
  /** What was read or why not, for the report: `Grafana admin credentials from Secret monitoring/kps-grafana`. */
  readonly note?: string;
  /** True when the password came from the cluster. */
  readonly fromCluster: boolean;
}

export async function grafanaCredentials(settings: Settings, stack: Stack, cluster: Cluster, signal?: AbortSignal): Promise<CredentialsRead> {
  const given = inputCredentials(settings);
  if (given.password || given.token || settings.grafanaCredentials.mode === 'none' || !stack.grafana.ok) return { credentials: given, fromCluster: false };
  const site = stack.grafana.value;
  const ns = site.workload.namespace;
  const choice = settings.grafanaCredentials;
  const source =
    choice.mode === 'secret'
      ? { secret: choice.name, userKey: choice.userKey, passwordKey: choice.passwordKey, user: undefined }
      : site.credentials;
  if (!source) return { credentials: given, fromCluster: false };
  const ref = `Secret ${ns}/${source.secret}`;
  try {
    const secret = await cluster.readSecret(ns, source.secret, signal);
    if (!secret) return { credentials: given, fromCluster: false, note: `Grafana's admin credentials: ${ref} does not exist` };
    const decode = (key: string | undefined) => (key && secret.data?.[key] ? Buffer.from(secret.data[key], 'base64').toString('utf8') : undefined);
    const password = decode(source.passwordKey);
    secrets.add(password);
    const user = settings.grafanaUsername ?? decode(source.userKey) ?? source.user ?? 'admin';
    if (!password) return { credentials: given, fromCluster: false, note: `Grafana's admin credentials: ${ref} has no key ${source.passwordKey}` };
    const keys = [source.userKey, source.passwordKey].filter(Boolean).join(', ');
    return { credentials: { user, password, token: '' }, fromCluster: true, note: `Grafana's admin credentials read from ${ref} (${keys})` };
  } catch (err) {
    if (!(err instanceof KubeError)) throw err;
    const why = err.status === 403 ? `get secrets ${source.secret} in namespace ${ns} is forbidden` : err.message;
    return {
      credentials: given,
      fromCluster: false,
      note: `Grafana's admin credentials not read from ${ref}: ${why} (allow get on that one Secret with resourceNames: ["${source.secret}"], or set grafana-password)`,
    };
  }
}
