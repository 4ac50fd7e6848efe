/**
 * Where the cluster credentials come from: the `kubeconfig` input (already decoded from base64 by
 * the settings), else `$KUBECONFIG`, else `~/.kube/config`, else the pod's service account.
 * Every credential found is registered as a secret before anything else happens.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { SettingsError } from './errors.js';
import { secrets } from './secrets.js';

export interface LoadedKubeConfig {
  readonly kc: KubeConfig;
  /** Where it came from, for messages: `the kubeconfig input`, `$KUBECONFIG (/path)`, … */
  readonly source: string;
  readonly server: string;
  readonly context: string;
  /** The user entry's name in the kubeconfig (not a credential). */
  readonly userName: string;
}

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export function loadKubeConfig(yamlText: string, context: string, env: NodeJS.ProcessEnv = process.env): LoadedKubeConfig {
  const kc = new KubeConfig();
  const source = loadInto(kc, yamlText, env);
  if (context) {
    if (!kc.getContextObject(context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new SettingsError('context', `context "${context}" is not in ${source}; it has: ${known.join(', ') || 'no contexts'}`);
    }
    kc.setCurrentContext(context);
  }
  const ctx = kc.getContextObject(kc.getCurrentContext());
  if (!ctx) {
    throw new SettingsError(
      context ? 'context' : 'kubeconfig',
      kc.getContexts().length
        ? `${source} has no current-context; set the 'context' input to one of: ${kc.getContexts().map((c) => c.name).join(', ')}`
        : `${source} defines no context`,
    );
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new SettingsError('kubeconfig', `context "${ctx.name}" in ${source} names cluster "${ctx.cluster}", which is not defined`);
  if (!cluster.server) throw new SettingsError('kubeconfig', `cluster "${cluster.name}" in ${source} has no server URL`);
  if (!/^https?:\/\//.test(cluster.server)) {
    throw new SettingsError('kubeconfig', `cluster "${cluster.name}" in ${source} has server "${withoutUserinfo(cluster.server)}"; expected an https:// URL`);
  }
  const user = kc.getCurrentUser();
  if (!user) throw new SettingsError('kubeconfig', `context "${ctx.name}" in ${source} names user "${ctx.user}", which is not defined`);
  registerCredentials(kc);
  if (!hasCredentials(user)) {
    throw new SettingsError(
      'kubeconfig',
      `user "${user.name}" in ${source} has no credentials (token, client certificate, exec plugin, auth provider or username/password)`,
    );
  }
  return { kc, source, server: cluster.server, context: ctx.name, userName: user.name };
}

function loadInto(kc: KubeConfig, yamlText: string, env: NodeJS.ProcessEnv): string {
  if (yamlText) {
    parseInto(kc, () => kc.loadFromString(yamlText), 'the kubeconfig input');
    return 'the kubeconfig input';
  }
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const existing = fromEnv.filter((f) => existsSync(f));
  if (fromEnv.length) {
    if (!existing.length) throw new SettingsError('kubeconfig', `$KUBECONFIG names ${fromEnv.join(', ')}, which does not exist`);
    const [first, ...rest] = existing;
    parseInto(kc, () => kc.loadFromFile(first as string), `$KUBECONFIG (${first})`);
    for (const file of rest) {
      const more = new KubeConfig();
      parseInto(more, () => more.loadFromFile(file), `$KUBECONFIG (${file})`);
      kc.mergeConfig(more, true);
    }
    return `$KUBECONFIG (${existing.join(delimiter)})`;
  }
  const home = join(env.HOME || homedir(), '.kube', 'config');
  if (existsSync(home)) {
    parseInto(kc, () => kc.loadFromFile(home), home);
    return home;
  }
  if (env.KUBERNETES_SERVICE_HOST && existsSync(SA_TOKEN)) {
    kc.loadFromCluster();
    secrets.add(readFileSync(SA_TOKEN, 'utf8').trim());
    return 'the in-cluster service account';
  }
  throw new SettingsError(
    'kubeconfig',
    'no kubeconfig: the input is empty, $KUBECONFIG is unset, ~/.kube/config does not exist and this is not a pod; pass the kubeconfig input (YAML or base64)',
  );
}

/** Loads, turning parser errors into a message that never quotes the file (it holds credentials). */
function parseInto(kc: KubeConfig, load: () => void, source: string): void {
  try {
    load();
  } catch (err) {
    const raw = err instanceof Error ? err.message : String(err);
    const line = /line (\d+)/.exec(raw)?.[1];
    const field = /^(clusters|users|contexts)\[\d+\][.\w-]+ is missing/.exec(raw)?.[0];
    const why = field ?? (line ? `YAML syntax error at line ${line}` : 'it is not a kubeconfig YAML document');
    throw new SettingsError('kubeconfig', `${source} could not be read: ${why}`);
  }
  if (!kc.getClusters().length) throw new SettingsError('kubeconfig', `${source} defines no cluster`);
}

type KcUser = NonNullable<ReturnType<KubeConfig['getCurrentUser']>>;

function hasCredentials(user: KcUser): boolean {
  return Boolean(
    user.token || user.certData || user.certFile || user.exec || user.authProvider || (user.username && user.password),
  );
}

/**
 * Registers every credential of every user, so none can be printed, whichever context is used.
 * The entries are read as the YAML gave them: any field may hold a number, a list or a mapping.
 */
function registerCredentials(kc: KubeConfig): void {
  for (const user of kc.getUsers()) {
    for (const value of [user.token, user.password, user.keyData]) secrets.add(textOf(value));
    const keyData = textOf(user.keyData);
    if (keyData) secrets.add(decodeBase64(keyData));
    const providerConfig: unknown = (user.authProvider as { config?: unknown } | null | undefined)?.config;
    if (isRecord(providerConfig)) {
      for (const [key, value] of Object.entries(providerConfig)) {
        if (/token|secret|password|key/i.test(key)) secrets.add(textOf(value));
      }
    }
    const execEnv: unknown = (user.exec as { env?: unknown } | null | undefined)?.env;
    for (const entry of Array.isArray(execEnv) ? execEnv : isRecord(execEnv) ? [execEnv] : []) {
      if (isRecord(entry)) secrets.add(textOf(entry.value));
    }
  }
}

/** A scalar YAML value as text (numbers too: `token: 12345678` is a credential); undefined otherwise. */
function textOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'bigint' ? String(value) : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A URL for a message, without its `user:password@` part (everything up to the last `@`). */
function withoutUserinfo(url: string): string {
  return String(url).replace(/^([^/]*\/\/)?.*@/s, (_, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

function decodeBase64(text: string): string {
  return Buffer.from(text, 'base64').toString('utf8');
}
