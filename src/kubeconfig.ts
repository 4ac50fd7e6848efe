/**
 * Where the cluster credentials come from, read as kubectl reads them (client-go
 * tools/clientcmd/loader.go and client_config.go): the `kubeconfig` input (YAML, already decoded
 * from base64 by the settings), else the CLI's `--kubeconfig` file, else `$KUBECONFIG` (a list of
 * files, merged: the first file to name a cluster, user or context wins, and the first to set
 * current-context), else `~/.kube/config`, else the pod's service account.
 *
 * What kubectl honours and @kubernetes/client-node alone does not:
 * - a user's `tokenFile` (kubectl's spelling; client-node's `token-file` is read too): the token
 *   is read from the file, and re-read every minute as client-go's file token source does
 *   (transport/token_source.go); the file's token wins over a static `token`, which is used only
 *   while the file cannot be read (transport/round_trippers.go, bearerAuthRoundTripper);
 * - relative paths (certificate-authority, client-certificate, client-key, tokenFile, and an exec
 *   command with a `/`) resolve against the directory of the file that names them (loader.go,
 *   ResolveLocalPaths). client-node's loadFromFile resolves the certificate and key paths, but
 *   reads `token-file` while parsing, before, against the current directory (config_types.js
 *   findToken, then config.js makePathsAbsolute): so the token file is taken out of the document
 *   and read here;
 * - without a `proxy-url`, the proxy of the environment as Go's net/http chooses it (src/proxy.ts).
 *   It is given to client-node as the cluster's proxyUrl, which client-node applies itself: an
 *   undici ProxyAgent as the dispatcher of every API request (config.js createDispatcher), and an
 *   hpagent (or SOCKS) agent for the exec and port-forward WebSockets (config.js createAgent).
 *
 * Every credential found is registered as a secret before anything else happens.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { newClusters, newContexts, newUsers } from '@kubernetes/client-node/dist/config_types.js';
import { MfcError, SettingsError } from './errors.js';
import { kubeconfigDocument } from './kubeconfig-yaml.js';
import { environmentProxy, kubeconfigProxy, type ChosenProxy } from './proxy.js';
import { secrets } from './secrets.js';

/** A kubeconfig given as a file path (the CLI's `--kubeconfig PATH`), loaded as a file. */
export interface KubeconfigFile {
  readonly file: string;
}

export interface LoadedKubeConfig {
  readonly kc: KubeConfig;
  /** Where it came from, for messages: `the kubeconfig input`, `$KUBECONFIG (/path)`, … */
  readonly source: string;
  readonly server: string;
  readonly context: string;
  /** The user entry's name in the kubeconfig (not a credential). */
  readonly userName: string;
  /** The proxy in front of the API server, without credentials: `http://proxy:3128 (HTTPS_PROXY)`. */
  readonly proxy?: string;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const SA_TOKEN = `${SA_DIR}/token`;

/** One kubeconfig document as client-node read it, with the token files taken out of it. */
interface Piece {
  readonly clusters: readonly Cluster[];
  readonly users: readonly User[];
  readonly contexts: readonly Context[];
  readonly currentContext?: string;
  /** User name → the token file's path (resolved against the file's directory). */
  readonly tokenFiles: ReadonlyMap<string, string>;
}

export function loadKubeConfig(input: string | KubeconfigFile, context: string, env: NodeJS.ProcessEnv = process.env): LoadedKubeConfig {
  const kc = new KubeConfig();
  const { source, tokenFiles } = loadInto(kc, input, env);
  if (!kc.getClusters().length) throw new SettingsError('kubeconfig', `${source} defines no cluster`);
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
  if (!/^https?:\/\/[^/]/.test(String(cluster.server)) || !isUrl(cluster.server)) {
    throw new SettingsError('kubeconfig', `cluster "${cluster.name}" in ${source} has server "${withoutUserinfo(String(cluster.server))}"; expected an https:// URL`);
  }
  const user = kc.getCurrentUser();
  if (!user) throw new SettingsError('kubeconfig', `context "${ctx.name}" in ${source} names user "${ctx.user}", which is not defined`);
  registerCredentials(kc);
  const tokenFile = tokenFiles.get(String(user.name));
  if (!hasCredentials(user) && !tokenFile) {
    throw new SettingsError(
      'kubeconfig',
      `user "${user.name}" in ${source} has no credentials (token, client certificate, exec plugin, auth provider, tokenFile or username/password)`,
    );
  }
  const proxy = chooseProxy(cluster, source, env);
  if (tokenFile) {
    const auth = new TokenFileAuth(String(user.name), tokenFile, textOf(user.token));
    auth.initial(source);
    kc.addAuthenticator(auth);
  }
  // The chosen proxy becomes the cluster's proxyUrl, and a user with a token file loses its static token
  // (client-node would send it over the file's): both read by client-node on every request.
  if ((proxy && proxy.from !== 'proxy-url') || tokenFile) {
    kc.loadFromOptions({
      clusters: kc.getClusters().map((c) => (c === cluster && proxy ? { ...c, proxyUrl: proxy.url.href } : c)),
      users: kc.getUsers().map((u) => (u === user && tokenFile ? withoutToken(u) : u)),
      contexts: kc.getContexts(),
      currentContext: kc.getCurrentContext(),
    });
  }
  return {
    kc,
    source,
    server: cluster.server,
    context: ctx.name,
    userName: String(user.name),
    ...(proxy ? { proxy: `${withoutUserinfo(proxy.url.href)} (${proxy.from})` } : {}),
  };
}

function loadInto(kc: KubeConfig, input: string | KubeconfigFile, env: NodeJS.ProcessEnv): { source: string; tokenFiles: ReadonlyMap<string, string> } {
  if (typeof input !== 'string') {
    const file = resolve(input.file);
    const source = `the kubeconfig file ${file}`;
    if (!existsSync(file)) throw new SettingsError('kubeconfig', `file "${input.file}" does not exist`);
    return { source, tokenFiles: apply(kc, [readPiece(readText(file, source), file, source)]) };
  }
  if (input) {
    const source = 'the kubeconfig input';
    // A document given as text has no directory: its relative paths are the current directory's, as for kubectl.
    return { source, tokenFiles: apply(kc, [readPiece(input, undefined, source)]) };
  }
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (fromEnv.length) {
    // Files of the list that do not exist are skipped (loader.go Load); at least one must.
    const existing = fromEnv.filter((f) => existsSync(f));
    if (!existing.length) throw new SettingsError('kubeconfig', `$KUBECONFIG names ${fromEnv.join(', ')}, which does not exist`);
    const pieces = existing.map((f) => readPiece(readText(f, `$KUBECONFIG (${f})`), f, `$KUBECONFIG (${f})`));
    return { source: `$KUBECONFIG (${existing.join(delimiter)})`, tokenFiles: apply(kc, pieces) };
  }
  const home = join(env.HOME || homedir(), '.kube', 'config');
  if (existsSync(home)) return { source: home, tokenFiles: apply(kc, [readPiece(readText(home, home), home, home)]) };
  if (env.KUBERNETES_SERVICE_HOST && existsSync(SA_TOKEN)) {
    kc.loadFromCluster();
    // The service account's token, re-read as it rotates, each value masked (instead of client-node's FileAuth).
    const user = kc.getUsers()[0] as User;
    kc.loadFromOptions({ clusters: kc.getClusters(), users: [{ name: user.name }], contexts: kc.getContexts(), currentContext: kc.getCurrentContext() });
    return { source: 'the in-cluster service account', tokenFiles: new Map([[user.name, SA_TOKEN]]) };
  }
  throw new SettingsError(
    'kubeconfig',
    'no kubeconfig: the input is empty, $KUBECONFIG is unset, ~/.kube/config does not exist and this is not a pod; pass the kubeconfig input (YAML or base64)',
  );
}

function readText(file: string, source: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new SettingsError('kubeconfig', `${source} could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Parses one document (never quoting it: it holds credentials), takes its token files out, lets
 * client-node read the rest, and resolves its relative paths against `file`'s directory.
 */
function readPiece(text: string, file: string | undefined, source: string): Piece {
  const doc = parseYaml(text, source);
  const base = file === undefined ? undefined : dirname(resolve(file));
  const tokenFiles = new Map<string, string>();
  const users = Array.isArray(doc.users) ? doc.users.map((entry: unknown, i: number) => takeTokenFile(entry, i, tokenFiles, base, source)) : doc.users;
  const piece = new KubeConfig();
  // What KubeConfig.loadFromString does once js-yaml has parsed the text (config.js), on the
  // document already parsed: js-yaml is then never loaded.
  parseInto(
    () =>
      piece.loadFromOptions({
        clusters: newClusters(doc.clusters),
        contexts: newContexts(doc.contexts),
        users: newUsers(users),
        currentContext: doc['current-context'],
      }),
    source,
  );
  if (base !== undefined) piece.makePathsAbsolute(base);
  for (const user of piece.getUsers()) {
    // loader.go GetAuthInfoFileReferences: an exec command with a path separator is a path too.
    const exec: unknown = user.exec;
    if (base !== undefined && isRecord(exec) && typeof exec.command === 'string' && exec.command.includes(sep) && !isAbsolute(exec.command)) {
      exec.command = resolve(base, exec.command);
    }
  }
  return { clusters: piece.getClusters(), users: piece.getUsers(), contexts: piece.getContexts(), currentContext: piece.getCurrentContext(), tokenFiles };
}

/** The user entry without `tokenFile`/`token-file`, whose path is kept in `tokenFiles` by user name. */
function takeTokenFile(entry: unknown, index: number, tokenFiles: Map<string, string>, base: string | undefined, source: string): unknown {
  if (!isRecord(entry) || !isRecord(entry.user)) return entry;
  const { tokenFile, 'token-file': dashed, ...user } = entry.user;
  const path = tokenFile ?? dashed;
  if (path === undefined || path === null || path === '') return { ...entry, user };
  if (typeof path !== 'string') throw new SettingsError('kubeconfig', `users[${index}].user.tokenFile in ${source} is not a file path`);
  tokenFiles.set(String(entry.name), base === undefined || isAbsolute(path) ? path : resolve(base, path));
  return { ...entry, user };
}

/** The pieces merged into `kc` as client-go merges kubeconfig files: the first to name an entry, or to set current-context, wins. */
function apply(kc: KubeConfig, pieces: readonly Piece[]): ReadonlyMap<string, string> {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  const tokenFiles = new Map<string, string>();
  let currentContext: string | undefined;
  for (const piece of pieces) {
    for (const c of piece.clusters) if (!clusters.has(String(c.name))) clusters.set(String(c.name), c);
    for (const u of piece.users) {
      const name = String(u.name);
      if (users.has(name)) continue;
      users.set(name, u);
      const file = piece.tokenFiles.get(name);
      if (file) tokenFiles.set(name, file);
    }
    for (const c of piece.contexts) if (!contexts.has(String(c.name))) contexts.set(String(c.name), c);
    currentContext ||= piece.currentContext;
  }
  kc.loadFromOptions({ clusters: [...clusters.values()], users: [...users.values()], contexts: [...contexts.values()], currentContext });
  return tokenFiles;
}

/** A YAML mapping, or a SettingsError saying where the syntax breaks (never what the text holds). */
function parseYaml(text: string, source: string): Record<string, unknown> {
  const fail = (why: string): never => {
    throw new SettingsError('kubeconfig', `${source} could not be read: ${why}`);
  };
  const doc = kubeconfigDocument(text);
  const error = doc.errors[0];
  if (error) fail(error.linePos?.[0]?.line ? `YAML syntax error at line ${error.linePos[0].line}` : 'it is not a kubeconfig YAML document');
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch {
    fail('it is not a kubeconfig YAML document');
  }
  return isRecord(value) ? value : fail('it is not a kubeconfig YAML document');
}

/** Runs client-node's reading, turning its errors into a message that never quotes the file. */
function parseInto(load: () => void, source: string): void {
  try {
    load();
  } catch (err) {
    const raw = err instanceof Error ? err.message : String(err);
    const field = /^(clusters|users|contexts)\[\d+\][.\w-]+ is missing/.exec(raw)?.[0];
    throw new SettingsError('kubeconfig', `${source} could not be read: ${field ?? 'it is not a kubeconfig YAML document'}`);
  }
}

/** The cluster's proxy-url, else the environment's proxy for its server (registered as secrets first). */
function chooseProxy(cluster: Cluster, source: string, env: NodeJS.ProcessEnv): ChosenProxy | undefined {
  let proxy: ChosenProxy | undefined;
  try {
    proxy = cluster.proxyUrl ? kubeconfigProxy(cluster.proxyUrl, String(cluster.name), source) : environmentProxy(String(cluster.server), env);
  } catch (err) {
    if (err instanceof MfcError && cluster.proxyUrl) throw new SettingsError('kubeconfig', err.message);
    throw err;
  }
  if (proxy?.url.password) {
    secrets.add(proxy.url.password);
    secrets.add(decodeURIComponent(proxy.url.password));
  }
  return proxy;
}

type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];

/**
 * A user's token file, as client-go reads it: trimmed, re-read at most once a minute; when a read
 * fails, the last token read (else the static token) is sent. Every token read is masked.
 */
class TokenFileAuth implements Authenticator {
  private token: string | undefined;
  private readAt = 0;

  constructor(
    private readonly userName: string,
    private readonly path: string,
    private readonly fallback: string | undefined,
  ) {}

  /** The first read: an unreadable file without a static token fails as kubectl fails. */
  initial(source: string): void {
    const error = this.read();
    if (error && !this.fallback) {
      throw new SettingsError('kubeconfig', `the tokenFile ${this.path} of user "${this.userName}" in ${source} cannot be read (${error})`);
    }
  }

  isAuthProvider(user: User): boolean {
    return String(user.name) === this.userName;
  }

  async applyAuthentication(_user: User, opts: { headers?: unknown }): Promise<void> {
    if (Date.now() - this.readAt >= 60_000) this.read();
    const token = this.token ?? this.fallback;
    if (!token) return;
    const headers = (isRecord(opts.headers) ? opts.headers : (opts.headers = {})) as Record<string, unknown>;
    headers.Authorization = `Bearer ${token}`;
  }

  /** Reads the file; returns the error code when it cannot be read. */
  private read(): string | undefined {
    this.readAt = Date.now();
    try {
      const token = readFileSync(this.path, 'utf8').trim();
      secrets.add(token);
      this.token = token;
      return undefined;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? 'error';
    }
  }
}

function withoutToken(user: User): User {
  const { token: _token, ...rest } = user;
  return rest;
}

function hasCredentials(user: User): boolean {
  return Boolean(user.token || user.certData || user.certFile || user.exec || user.authProvider || (user.username && user.password));
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
    const keyFile = textOf(user.keyFile);
    if (keyFile) {
      try {
        secrets.add(readFileSync(keyFile, 'utf8'));
      } catch {
        // unreadable: client-node reports it when the key is used
      }
    }
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
  // A password in a server or proxy URL (`https://user:password@host`).
  for (const cluster of kc.getClusters()) {
    for (const url of [cluster.server, cluster.proxyUrl]) {
      const password = /^[^/]*\/\/[^/@]*:([^/@]*)@/.exec(String(url ?? ''))?.[1];
      if (password) {
        secrets.add(password);
        secrets.add(safeDecode(password));
      }
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

function isUrl(text: string): boolean {
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A URL for a message, without its `user:password@` part (everything up to the last `@`). */
function withoutUserinfo(url: string): string {
  return String(url).replace(/^([^/]*\/\/)?.*@/s, (_, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

function decodeBase64(text: string): string {
  return Buffer.from(text, 'base64').toString('utf8');
}
