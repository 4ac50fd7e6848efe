/**
 * Runs a real Prometheus server (the installed binary) as the Prometheus pod of the simulated
 * cluster: it listens on the pod IP, loads the prometheus.yml of the ConfigMap, and discovers
 * pods through the simulated API server with the prometheus service account's token.
 *
 * When the binary has no Kubernetes discovery built in (Debian's package has none), each
 * `kubernetes_sd_configs` entry is served by this package's discovery through `http_sd_configs`;
 * relabelling, scraping and the HTTP API are Prometheus's own either way. The process then
 * listens on another port of the pod IP, behind a front on the pod's port that forwards every
 * request and shows the few answers that would reveal the bridge (the loaded configuration, the
 * targets' discovered labels, the listen flags) as a Prometheus with Kubernetes discovery gives
 * them (api-front.ts, bridge-view.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { assertLoopback } from '../exporters/net.js';
import { startApiFront, type ApiFront } from './api-front.js';
import { BridgeView } from './bridge-view.js';
import { bridgeKubernetesSd, rewriteScrapeConfig } from './config.js';
import { createWorkDir, terminate, track, withParentDeathSignal } from './process-guard.js';
import { startSdServer, type SdServer } from './sd-server.js';

export { bridgeKubernetesSd, parsePromDuration, rewriteScrapeConfig } from './config.js';
export type { BridgeOptions, BridgedConfig, BridgedEntry, ClusterAccess, KubernetesSdSpec, RewriteOptions } from './config.js';

export const DEFAULT_PROMETHEUS_BINARY = '/usr/bin/prometheus';

/** How `kubernetes_sd_configs` is served: by Prometheus itself, or through `http_sd_configs`. */
export type KubernetesSdMode = 'auto' | 'native' | 'bridge';

export interface PrometheusOptions {
  /** prometheus.yml, as found in the ConfigMap. */
  configYaml: string;
  /** The pod IP to listen on (127.X.Y.Z). */
  host: string;
  /** Port to listen on (9090 in the pod spec); 0 picks a free one. */
  port: number;
  /** Base URL of the simulated API server. */
  apiServerUrl: string;
  /** CA certificate of the API server (the pod's ca.crt). */
  caFile: string;
  /** The prometheus service account's token (the pod's token file). */
  tokenFile: string;
  /** Overrides the global and per-job scrape_interval, e.g. `1s`. */
  scrapeInterval?: string;
  /** TSDB directory; a temporary one (removed on stop) when omitted. */
  dataDir?: string;
  /** Namespace of the Prometheus pod, for `namespaces.own_namespace`. */
  namespace?: string;
  /** Prometheus binary (default /usr/bin/prometheus). */
  binary?: string;
  /** Default `auto`: `native` when the binary has Kubernetes discovery, else `bridge`. */
  kubernetesSd?: KubernetesSdMode;
  /** How long to wait for /-/ready (default 20 s). */
  readyTimeoutMs?: number;
  /** Receives every log line as it is written (e.g. to feed the pod's log). */
  onLog?: (line: string) => void;
  /** More command-line flags (e.g. `--web.enable-lifecycle`, `--web.route-prefix=/`). */
  extraArgs?: string[];
}

export interface PrometheusServer {
  /** `http://host:port`: the pod's address (in bridge mode, the front of the process). */
  url: string;
  process: ChildProcess;
  /** The configuration Prometheus was started with. */
  configYaml: string;
  /** The discovery mode in use. */
  kubernetesSd: 'native' | 'bridge';
  /**
   * Loads a new configuration (prometheus.yml as found in the pod), as a config reloader does:
   * rewritten like the first, written over the config file, then `POST /-/reload` when the
   * lifecycle API is enabled, else SIGHUP. Resolves once Prometheus answered the reload (with
   * an error when it rejected the configuration); the previous discovery stops afterwards.
   */
  reload(configYaml: string): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s; removes the temporary directories. Idempotent. */
  stop(): Promise<void>;
  /** Everything logged so far, one line each. */
  logs(): string;
}

const MAX_LOG_LINES = 20_000;

const nativeSupport = new Map<string, Promise<boolean>>();

/** Whether a Prometheus binary was built with Kubernetes discovery (looks for its package). */
export function hasKubernetesSd(binary: string = DEFAULT_PROMETHEUS_BINARY): Promise<boolean> {
  let found = nativeSupport.get(binary);
  if (!found) {
    found = new Promise<boolean>((resolve, reject) => {
      const needle = Buffer.from('prometheus/discovery/kubernetes');
      let carry: Buffer = Buffer.alloc(0);
      const stream = createReadStream(binary, { highWaterMark: 4 << 20 });
      stream.on('data', (data) => {
        const chunk = data as Buffer;
        const edge = Buffer.concat([carry, chunk.subarray(0, needle.length)]);
        if (edge.includes(needle) || chunk.includes(needle)) {
          stream.destroy();
          resolve(true);
          return;
        }
        carry = chunk.subarray(Math.max(0, chunk.length - needle.length));
      });
      stream.on('end', () => resolve(false));
      stream.on('error', reject);
    });
    nativeSupport.set(binary, found);
  }
  return found;
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function httpStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  assertLoopback(opts.host);
  const binary = opts.binary ?? DEFAULT_PROMETHEUS_BINARY;
  let mode = opts.kubernetesSd ?? 'auto';
  if (mode === 'auto') mode = (await hasKubernetesSd(binary)) ? 'native' : 'bridge';

  const lines: string[] = [];
  const log = (line: string): void => {
    lines.push(line);
    if (lines.length > MAX_LOG_LINES) lines.splice(0, lines.length - MAX_LOG_LINES);
    opts.onLog?.(line);
  };
  const tail = (n = 30): string => lines.slice(-n).join('\n');

  const workDir = await createWorkDir();
  let sd: SdServer | undefined;
  let front: ApiFront | undefined;
  let view: BridgeView | undefined;
  let child: { proc: ChildProcess; exited: Promise<number | string> } | undefined;
  const cleanup = async (): Promise<void> => {
    await front?.stop();
    await sd?.stop();
    await rm(workDir, { recursive: true, force: true });
  };

  try {
    const access = { apiServerUrl: opts.apiServerUrl, caFile: opts.caFile, tokenFile: opts.tokenFile };
    const rewrite = { ...access, scrapeInterval: opts.scrapeInterval, namespace: opts.namespace };
    let generation = 0;
    let release: (() => void) | undefined;
    /** The configuration as this Prometheus loads it, and what to do once it is loaded. */
    const prepareConfig = (yaml: string): { configYaml: string; commit: () => void } => {
      if (mode === 'native') return { configYaml: rewriteScrapeConfig(yaml, rewrite), commit: () => undefined };
      const bridged = bridgeKubernetesSd(yaml, { ...rewrite, sdBaseUrl: sd!.url, pathPrefix: generation === 0 ? 'sd' : `sd${generation}` });
      generation++;
      view!.add(bridged.entries);
      const releaseNew = sd!.serve(bridged.sources);
      return {
        configYaml: bridged.yaml,
        commit: () => {
          release?.();
          release = releaseNew;
        },
      };
    };
    const extraArgs = opts.extraArgs ?? [];
    const frontArgs: string[] = [];
    let processPort: number;
    if (mode === 'bridge') {
      sd = await startSdServer(opts.host, access, log);
      // The pod's port is the front's; the process gets another one of the same address. What
      // the process derives from its listen address must still be the pod's: the external URL
      // (cmd/prometheus/main.go computeExternalURL: http://<hostname>:<listen port>/).
      const hasExternalUrl = extraArgs.some((a) => a.startsWith('--web.external-url='));
      const flags: Record<string, string> = {};
      view = new BridgeView({ sdBaseUrl: sd.url, configDir: workDir, flags });
      const upstream = { host: opts.host, port: 0 };
      front = await startApiFront({ host: opts.host, port: opts.port, upstream, rewrites: apiRewrites(routePrefix(extraArgs), view) });
      // Chosen once the front holds its port, so that the two cannot be the same.
      processPort = upstream.port = await freePort(opts.host);
      flags['web.listen-address'] = `${opts.host}:${front.port}`;
      if (!hasExternalUrl) {
        flags['web.external-url'] = '';
        frontArgs.push(`--web.external-url=http://${hostname()}:${front.port}/`);
      }
    } else {
      processPort = opts.port === 0 ? await freePort(opts.host) : opts.port;
    }
    const first = prepareConfig(opts.configYaml);
    first.commit();
    let configYaml = first.configYaml;
    const configFile = join(workDir, 'prometheus.yml');
    await writeFile(configFile, configYaml);

    const url = front?.url ?? `http://${opts.host}:${processPort}`;
    const args = [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${opts.dataDir ?? join(workDir, 'data')}`,
      `--web.listen-address=${opts.host}:${processPort}`,
      '--log.level=info',
      ...frontArgs,
      ...extraArgs,
    ];
    const [command, commandArgs] = withParentDeathSignal(binary, args);
    const proc = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(proc, workDir);
    // Neither the process nor its log pipes keep the caller alive; the exit hook ends them.
    proc.unref();
    for (const stream of [proc.stdout, proc.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    for (const stream of [proc.stdout, proc.stderr]) createInterface({ input: stream }).on('line', log);
    const exited = new Promise<number | string>((resolve) => {
      // 'close' comes after the last log line has been read.
      proc.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
      proc.once('error', (err) => resolve(err.message));
    });
    // Without its process the pod's port refuses connections.
    void exited.then(() => front?.shutdown());
    child = { proc, exited };

    await waitReady(url, exited, opts.readyTimeoutMs ?? 20_000, tail);

    let stopping: Promise<void> | undefined;
    const lifecycle = (opts.extraArgs ?? []).includes('--web.enable-lifecycle');
    const server: PrometheusServer = {
      url,
      process: proc,
      configYaml,
      kubernetesSd: mode,
      logs: () => lines.join('\n'),
      async reload(yaml: string) {
        const next = prepareConfig(yaml);
        await writeFile(configFile, next.configYaml);
        try {
          if (lifecycle) await postReload(url);
          else proc.kill('SIGHUP');
        } finally {
          next.commit();
        }
        configYaml = next.configYaml;
        server.configYaml = configYaml;
      },
      stop() {
        stopping ??= (async () => {
          await terminate(proc, exited);
          await cleanup();
        })();
        return stopping;
      },
    };
    return server;
  } catch (err) {
    if (child) await terminate(child.proc, child.exited);
    await cleanup();
    throw err;
  }
}

/** Prometheus's `--web.route-prefix` (default: the external URL's path), as `/` or `/prefix`. */
function routePrefix(args: readonly string[]): string {
  const flag = (name: string): string | undefined => args.findLast((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  let prefix = flag('web.route-prefix');
  if (prefix === undefined || prefix === '') {
    const external = flag('web.external-url');
    try {
      prefix = external ? new URL(external).pathname : '';
    } catch {
      prefix = '';
    }
  }
  return `/${prefix.replace(/^\/+|\/+$/g, '')}`;
}

/** The answers the front rewrites, by path (web/api/v1/api.go Register: GET routes). */
function apiRewrites(prefix: string, view: BridgeView): Record<string, (body: string) => string> {
  const api = `${prefix === '/' ? '' : prefix}/api/v1`;
  return {
    [`${api}/status/config`]: (body) => view.statusConfigJson(body),
    [`${api}/targets`]: (body) => view.targetsJson(body),
    [`${api}/status/flags`]: (body) => view.flagsJson(body),
  };
}

/** `POST /-/reload`; rejects with Prometheus's answer when it refused the configuration. */
function postReload(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/-/reload`, { method: 'POST', agent: false, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`reload failed (${res.statusCode}): ${body.trim()}`))));
    });
    req.on('timeout', () => req.destroy(new Error('reload timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function waitReady(
  url: string,
  exited: Promise<number | string>,
  timeoutMs: number,
  tail: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: number | string | undefined;
  void exited.then((value) => (exit = value));
  for (;;) {
    if (exit !== undefined) {
      throw new Error(`prometheus exited (${exit}) before it was ready; last log lines:\n${tail()}`);
    }
    if ((await httpStatus(`${url}/-/ready`, 1000)) === 200) return;
    if (Date.now() > deadline) {
      throw new Error(`prometheus at ${url} not ready after ${timeoutMs} ms; last log lines:\n${tail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
