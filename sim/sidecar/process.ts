/**
 * One run of the k8s-sidecar (kiwigrid/k8s-sidecar, src/sidecar.py, src/resources.py,
 * src/helpers.py) in a container of a simulated pod: it reads its settings from the container's
 * environment, lists then watches ConfigMaps and/or Secrets carrying LABEL(=LABEL_VALUE) through
 * the API server with the pod's ServiceAccount token, writes each data key as a file under FOLDER
 * (or the `k8s-sidecar-target-directory` annotation's folder) in the container's filesystem —
 * the emptyDir it mounts there is what the Grafana container sees — removes files when the
 * object, the key or the label goes away, and calls REQ_URL after changes. It logs what the
 * sidecar logs, in its format. The run ends with the process's exit code.
 *
 * Versions: 2.x (image tag 2.*) lists first and crashes when that list fails (an RBAC refusal
 * leaves no file and restarts the container), then watches; 1.x watches directly and logs
 * `ApiException when calling kubernetes: (403)…` every ERROR_THROTTLE_SLEEP seconds.
 * Not modelled: SCRIPT, DEFAULT_FILE_MODE, IGNORE_ALREADY_PROCESSED's Kubernetes version probe,
 * kubeconfig files, SKIP_TLS_VERIFY, REQ_USERNAME_FILE/REQ_PASSWORD_FILE.
 */
import http from 'node:http';
import type { ClusterView, KubeObject } from '../kube/view.js';
import { containerEnv } from '../grafana/pod-env.js';
import { ApiException, IN_CLUSTER_HOST, IN_CLUSTER_PORT, KubeClient, MaxRetryError, sleep, type CoreObject, type CoreResource } from './kube-client.js';
import { PyLogger, pyRepr, pyTupleRepr } from './pylog.js';
import { sidecarRequest, type PodNetwork, type SidecarRequest } from './request.js';
import { retrySettings, type RetrySettings } from './retry.js';

/** What a sidecar needs of the simulated cluster: its objects and files, and its API server. */
export interface SidecarCluster {
  readonly view: ClusterView;
  readonly apiServerUrl: string;
  readonly caPem: string;
  serviceAccountToken(namespace: string, name: string): string;
}

export interface SidecarProcessOptions {
  readonly cluster: SidecarCluster;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** Receives each line the process writes (the container's log). */
  readonly log: (line: string) => void;
  /** Called once the initial sync is done (what /healthz reports as ready). */
  readonly onReady?: () => void;
}

/** An uncaught Python exception: sys.excepthook logs it and the interpreter exits with 1. */
class PythonCrash extends Error {
  constructor(
    readonly qualname: string,
    readonly text: string,
    readonly traceback: string,
  ) {
    super(`${qualname}: ${text}`);
  }
}

/** Signals the process's end (main() returned). */
class ProcessExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

const TEXT = 'ascii';
const BINARY = 'binary';
type ContentType = typeof TEXT | typeof BINARY;

/** The sidecar's source files as installed in the image (for tracebacks). */
const APP = '/app';

/**
 * Line numbers of the frames a traceback shows, in src/sidecar.py and src/resources.py of
 * 2.10.1 and 1.30.7 (kiwigrid/k8s-sidecar).
 */
const LINES = {
  2: { module: 158, initConfig: 84, listOnly: 131, initialList: 146, iterate: 171, listCall: 114, listFunction: '_iter_k8s_items' },
  1: { module: 174, initConfig: 85, listOnly: 132, initialList: 132, iterate: 147, listCall: 140, listFunction: 'list_resources', watchForChanges: 136, loopDied: 443 },
} as const;

interface Settings {
  readonly major: number;
  readonly label: string;
  readonly labelValue: string | undefined;
  readonly folder: string;
  readonly folderAnnotation: string;
  readonly resources: readonly CoreResource[];
  readonly resourceName: string;
  readonly method: string | undefined;
  readonly requestUrl: string | undefined;
  readonly requestMethod: string | undefined;
  readonly requestPayload: unknown;
  readonly skipInit: boolean;
  readonly uniqueFilenames: boolean;
  readonly enable5xx: boolean;
  readonly namespaces: string;
  readonly retry: RetrySettings;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly timeoutSeconds: number;
  readonly watchTimeoutSeconds: number;
  readonly sleepSeconds: number;
  readonly errorThrottleSeconds: number;
}

interface PodSpecLike {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  containers?: { name: string; image?: string }[];
  initContainers?: { name: string; image?: string }[];
}

/** The image's major version (`quay.io/kiwigrid/k8s-sidecar:1.30.7` → 1); 2 when unknown. */
function imageMajor(image: string | undefined): number {
  const tag = /:(\d+)\.\d+/.exec(image ?? '');
  return tag ? Number(tag[1]) : 2;
}

/** prepare_payload: JSON when it parses, else the text itself (with a warning). */
function payloadOf(raw: string | undefined, log: PyLogger): unknown {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    log.warning('Payload will be posted as quoted json');
    return raw;
  }
}

export class SidecarProcess {
  private readonly controller = new AbortController();
  private readonly logger: PyLogger;
  private client?: KubeClient;
  private settings?: Settings;
  private health?: http.Server;
  private ready = false;
  /** The image's major version: 1.x and 2.x differ in start-up and error handling. */
  private major = 2;
  /** resources.py's module caches, per resource type, keyed by namespace + name. */
  private readonly versions = new Map<CoreResource, Map<string, string | undefined>>();
  private readonly objects = new Map<CoreResource, Map<string, CoreObject>>();
  private readonly folders = new Map<CoreResource, Map<string, string>>();

  constructor(private readonly options: SidecarProcessOptions) {
    const env = this.env();
    this.logger = new PyLogger(options.log, { format: env.get('LOG_FORMAT'), level: env.get('LOG_LEVEL') });
    for (const r of ['configmap', 'secret'] as const) {
      this.versions.set(r, new Map());
      this.objects.set(r, new Map());
      this.folders.set(r, new Map());
    }
  }

  private env(): Map<string, string> {
    const { cluster, namespace, pod, container } = this.options;
    return containerEnv(cluster.view, namespace, pod, container);
  }

  private podSpec(): PodSpecLike {
    const { cluster, namespace, pod } = this.options;
    return (cluster.view.get('Pod', namespace, pod)?.spec ?? {}) as PodSpecLike;
  }

  private get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Runs until main() returns or the process crashes; resolves with the exit code. */
  async run(): Promise<number> {
    try {
      await this.main();
      return 0;
    } catch (error) {
      if (this.signal.aborted) return 137;
      if (error instanceof ProcessExit) return error.code;
      if (error instanceof PythonCrash) {
        this.logger.error(`${error.qualname}: ${error.text}`, error.traceback);
        return 1;
      }
      this.logger.error(`${(error as Error).name}: ${(error as Error).message}`);
      return 1;
    } finally {
      this.closeHealth();
    }
  }

  /** SIGTERM: the process stops at once (its daemon threads with it). */
  stop(): void {
    this.controller.abort(new Error('terminated'));
    this.closeHealth();
  }

  private closeHealth(): void {
    const health = this.health;
    this.health = undefined;
    if (health) {
      health.closeAllConnections();
      health.close();
    }
  }

  // ---- sidecar.py main() ------------------------------------------------------------------

  private async main(): Promise<void> {
    const env = this.env();
    const spec = this.podSpec();
    const image = [...(spec.containers ?? []), ...(spec.initContainers ?? [])].find((c) => c.name === this.options.container)?.image;
    const major = imageMajor(image);
    this.major = major;
    const log = this.logger;
    log.info('Starting collector');
    if (major >= 2) await this.startHealthServer(Number(env.get('HEALTH_PORT') ?? '8080'));

    let folderAnnotation = env.get('FOLDER_ANNOTATION');
    if (folderAnnotation === undefined) {
      log.info('No folder annotation was provided, defaulting to k8s-sidecar-target-directory');
      folderAnnotation = 'k8s-sidecar-target-directory';
    }
    const label = env.get('LABEL');
    if (label === undefined) {
      // Not an f-string upstream: the braces are printed as they are.
      log.critical('Should have added {LABEL} as environment variable! Exit');
      return;
    }
    const labelValue = env.get('LABEL_VALUE');
    if (labelValue) log.debug(`Filter labels with value: ${labelValue}`);
    const folder = env.get('FOLDER');
    if (folder === undefined) {
      log.critical('Should have added FOLDER as environment variable! Exit');
      return;
    }
    const resourceSetting = env.get('RESOURCE') ?? 'configmap';
    const resources = (resourceSetting === 'both' ? ['secret', 'configmap'] : [resourceSetting]) as CoreResource[];
    log.debug(`Selected resource type: ${pyTupleRepr(resources)}`);
    const resourceName = env.get('RESOURCE_NAME') ?? '';
    log.debug(`Selected resource name: ${resourceName}`);
    const skipInit = (env.get('REQ_SKIP_INIT') ?? 'false').toLowerCase() === 'true';
    const requestPayload = payloadOf(env.get('REQ_PAYLOAD'), log);

    this.initializeKubeClient(major);

    const uniqueFilenames = env.get('UNIQUE_FILENAMES')?.toLowerCase() === 'true';
    log.info(uniqueFilenames ? 'Unique filenames will be enforced.' : 'Unique filenames will not be enforced.');
    const enable5xx = env.get('ENABLE_5XX')?.toLowerCase() === 'true';
    log.info(enable5xx ? '5xx response content will be enabled.' : '5xx response content will not be enabled.');
    log.debug('Ignore already processed resource version will not be enabled.');

    const settings: Settings = {
      major,
      label,
      labelValue,
      folder,
      folderAnnotation,
      resources,
      resourceName,
      method: env.get('METHOD'),
      requestUrl: env.get('REQ_URL'),
      requestMethod: env.get('REQ_METHOD'),
      requestPayload,
      skipInit,
      uniqueFilenames,
      enable5xx,
      // os.getenv("NAMESPACE", <the pod's namespace>)
      namespaces: env.has('NAMESPACE') ? env.get('NAMESPACE')! : this.options.namespace,
      retry: retrySettings(env),
      username: env.get('REQ_USERNAME'),
      password: env.get('REQ_PASSWORD'),
      timeoutSeconds: Number(env.get('REQ_TIMEOUT') ?? 10),
      watchTimeoutSeconds: Number(env.get('WATCH_SERVER_TIMEOUT') ?? 60),
      sleepSeconds: Number(env.get('SLEEP_TIME') ?? 60),
      errorThrottleSeconds: Number(env.get('ERROR_THROTTLE_SLEEP') ?? 5),
    };
    this.settings = settings;
    const namespaces = settings.namespaces.split(',');

    if (settings.method === 'LIST') {
      for (const resource of resources) {
        for (const ns of namespaces) await this.listResources(resource, ns, settings.requestUrl, false, [this.mainFrame('listOnly')]);
      }
      this.markReady();
      return;
    }
    if (major < 2) return this.watchForChanges();

    log.info('Performing initial list-based sync before starting watch.');
    let initUrl = settings.requestUrl;
    if (skipInit) {
      initUrl = undefined;
      log.info('Skipping initial request to external endpoint.');
    }
    for (const resource of resources) {
      for (const ns of namespaces) await this.listResources(resource, ns, initUrl, true, [this.mainFrame('initialList')]);
    }
    this.markReady();
    log.info('Initial sync complete, sidecar is ready.');
    await this.watchForChanges();
  }

  /** client.py _initialize_kubeclient_configuration (in-cluster: the mounted ServiceAccount token). */
  private initializeKubeClient(major: number): void {
    const log = this.logger;
    log.info(major >= 2 ? 'Loading incluster config...' : 'Loading incluster config ...');
    const spec = this.podSpec();
    const saName = spec.serviceAccountName ?? 'default';
    const sa = this.options.cluster.view.get('ServiceAccount', this.options.namespace, saName) as
      | (KubeObject & { automountServiceAccountToken?: boolean })
      | undefined;
    const mounted = spec.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;
    if (!mounted) {
      const message = 'Service token file does not exist.';
      if (major >= 2) log.error(`Unexpected error during Kubernetes client initialization: ${message}`);
      throw new PythonCrash('ConfigException', message, this.traceback([this.mainFrame('initConfig', major)], `kubernetes.config.config_exception.ConfigException: ${message}`));
    }
    if (!this.client) {
      this.client = new KubeClient({
        apiServerUrl: this.options.cluster.apiServerUrl,
        caPem: this.options.cluster.caPem,
        token: this.options.cluster.serviceAccountToken(this.options.namespace, saName),
        retry: retrySettings(this.env()),
        log,
        signal: this.signal,
      });
    }
    const loaded = `Config for cluster api at 'https://${IN_CLUSTER_HOST}:${IN_CLUSTER_PORT}' loaded.`;
    if (major >= 2) log.debug(loaded);
    else log.info(loaded);
  }

  /** The resources.py frames of a failed list call, for the running version. */
  private listFrames(): string[] {
    const lines = LINES[this.cfg.major >= 2 ? 2 : 1];
    return this.cfg.major >= 2
      ? [`${APP}/resources.py", line ${lines.iterate}, in list_resources`, `${APP}/resources.py", line ${lines.listCall}, in ${lines.listFunction}`]
      : [`${APP}/resources.py", line ${lines.listCall}, in ${lines.listFunction}`];
  }

  /** The `main` frame at one of its calls, for the running version. */
  private mainFrame(call: 'initConfig' | 'listOnly' | 'initialList' | 'watchForChanges', major = this.major): string {
    const lines = LINES[major >= 2 ? 2 : 1] as unknown as Record<string, number>;
    return `${APP}/sidecar.py", line ${lines[call]}, in main`;
  }

  /** A traceback naming the sidecar's own frames (kubernetes and urllib3 frames are left out). */
  private traceback(frames: readonly string[], last: string, major = this.major): string {
    const lines = ['Traceback (most recent call last):', `  File "${APP}/sidecar.py", line ${LINES[major >= 2 ? 2 : 1].module}, in <module>`, '    main()'];
    for (const frame of frames) lines.push(`  File "${frame}`);
    lines.push(last.replace(/\n$/, ''));
    return lines.join('\n');
  }

  private markReady(): void {
    if (this.ready) return;
    this.ready = true;
    this.options.onReady?.();
  }

  /** healthz.py: `/healthz` on HEALTH_PORT, 503 `NOT READY` until the first sync. */
  private async startHealthServer(port: number): Promise<void> {
    const podIP = this.podIP();
    if (!podIP) return;
    const server = http.createServer((req, res) => {
      const found = req.url === '/healthz';
      const body = !found ? 'Not Found' : this.ready ? 'OK' : 'NOT READY';
      res.writeHead(!found ? 404 : this.ready ? 200 : 503, {
        Server: 'HealthHTTP/1.0 Python/3.13.5',
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(body);
    });
    server.unref();
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, podIP, () => resolve(true));
    });
    if (!listening) {
      // Another container of the pod holds the port: the health thread dies, the sidecar goes on.
      this.logger.warning('IPv6 not available, falling back to IPv4 for the health server');
      this.options.log('Exception in thread Thread-1 (run):');
      this.options.log('Traceback (most recent call last):');
      this.options.log('OSError: [Errno 98] Address in use');
      return;
    }
    this.health = server;
    this.logger.info(`Starting health server on port ${port}`);
  }

  private podIP(): string | undefined {
    const { cluster, namespace, pod } = this.options;
    return (cluster.view.get('Pod', namespace, pod)?.status as { podIP?: string } | undefined)?.podIP;
  }

  // ---- resources.py ------------------------------------------------------------------------

  private get cfg(): Settings {
    return this.settings!;
  }

  private labelSelector(): string {
    return this.cfg.labelValue ? `${this.cfg.label}=${this.cfg.labelValue}` : this.cfg.label;
  }

  /** list_resources: one list-based sync of a resource type in a namespace (or ALL). */
  private async listResources(resource: CoreResource, ns: string, requestUrl: string | undefined, ignoreProcessed: boolean, frames: string[]): Promise<void> {
    const log = this.logger;
    if (this.cfg.major >= 2) this.initializeKubeClient(this.cfg.major);
    const args: Record<string, string> = ns === 'ALL' ? {} : { namespace: ns };
    log.info(`Performing list-based sync on ${resource} resources: ${pyRepr(args)}`);
    let filesChanged = false;
    const exist = new Set<string>();
    const versions = this.versions.get(resource)!;
    try {
      for await (const item of this.listItems(resource, ns)) {
        const meta = item.metadata;
        const key = `${meta.namespace ?? ''}${meta.name}`;
        exist.add(key);
        if (ignoreProcessed) {
          if (versions.has(key) && versions.get(key) === meta.resourceVersion) {
            log.debug(`Ignoring ${resource} ${meta.namespace}/${meta.name}`);
            continue;
          }
          versions.set(key, meta.resourceVersion);
        }
        log.debug(`Working on ${resource}: ${meta.namespace}/${meta.name}`);
        const dest = this.destinationFolder(item);
        filesChanged = (await this.processObject(resource, dest, item, false)) || filesChanged;
      }
    } catch (error) {
      if (error instanceof ApiException) {
        const last = `kubernetes.client.exceptions.ApiException: ${error.message}`;
        throw new PythonCrash(
          'ApiException',
          error.message,
          this.traceback([...frames, ...this.listFrames()], last),
        );
      }
      if (error instanceof MaxRetryError) {
        throw new PythonCrash('MaxRetryError', error.message, this.traceback(frames, `urllib3.exceptions.MaxRetryError: ${error.message}`));
      }
      throw error;
    }
    // Forget what is no longer listed, scoped to this namespace.
    const cached = this.objects.get(resource)!;
    for (const [key, item] of [...cached]) {
      if (ns !== 'ALL' && item.metadata.namespace !== ns) continue;
      if (exist.has(key)) continue;
      log.debug(`Removing ${resource}: ${item.metadata.namespace}/${item.metadata.name}`);
      filesChanged = (await this.processObject(resource, undefined, item, true)) || filesChanged;
    }
    if (requestUrl && filesChanged) await this.request(requestUrl);
  }

  /**
   * _iter_k8s_items: pages of 5 (`limit=5`), fetched as they are consumed; or, with RESOURCE_NAME
   * (`name`, `resource/name` or `namespace/resource/name`, comma-separated) in a namespace, a read
   * of each named object (missing ones skipped).
   */
  private async *listItems(resource: CoreResource, ns: string): AsyncGenerator<CoreObject> {
    const client = this.client!;
    const names: string[] = [];
    if (ns !== 'ALL' && this.cfg.resourceName) {
      for (const entry of this.cfg.resourceName.split(',')) {
        const parts = entry.split('/').reverse();
        if (parts.length === 3 && parts[2] !== ns) continue;
        if (parts.length === 2 && parts[1] !== resource) continue;
        names.push(parts[0]!);
      }
    }
    if (names.length > 0) {
      for (const name of names) {
        const item = await client.read(resource, ns, name);
        if (item) yield item;
      }
      return;
    }
    const selector = this.labelSelector();
    let cont: string | undefined;
    do {
      const page = await client.listPage(resource, ns, selector, 5, cont);
      for (const item of page.items) yield item;
      cont = page.continue;
    } while (cont);
  }

  /** _get_destination_folder: the annotation's folder (absolute, or relative to FOLDER). */
  private destinationFolder(item: CoreObject): string {
    const annotation = item.metadata.annotations?.[this.cfg.folderAnnotation];
    if (annotation === undefined) return this.cfg.folder;
    const dest = annotation.startsWith('/') ? annotation : joinPath(this.cfg.folder, annotation);
    this.logger.info(`Found a folder override annotation, placing the ${item.metadata.name} in: ${dest}`);
    return dest;
  }

  /** _process_config_map / _process_secret: writes the object's keys, removes the keys it lost. */
  private async processObject(resource: CoreResource, destFolder: string | undefined, item: CoreObject, removed: boolean): Promise<boolean> {
    const key = `${item.metadata.namespace ?? ''}${item.metadata.name}`;
    const objects = this.objects.get(resource)!;
    const folders = this.folders.get(resource)!;
    const old: CoreObject = structuredClone(objects.get(key) ?? item);
    const oldDest = folders.get(key) ?? destFolder ?? this.cfg.folder;
    let dest = destFolder ?? oldDest;
    if (removed) {
      dest = oldDest;
      objects.delete(key);
    } else {
      objects.set(key, structuredClone(item));
      folders.set(key, dest);
    }
    let changed = false;
    const sections: [keyof CoreObject & ('data' | 'binaryData'), ContentType][] =
      resource === 'configmap' ? [['data', TEXT], ['binaryData', BINARY]] : [['data', BINARY]];
    if (resource === 'configmap' && item.data == null && item.binaryData == null) this.logger.warning('No data/binaryData field in configmap');
    if (resource === 'secret' && item.data == null) this.logger.warning('No data field in secret');
    for (const [field, type] of sections) {
      const data = item[field];
      if (data != null) changed = (await this.iterateData(data, dest, item, resource, type, removed)) || changed;
      const before = old[field];
      if (before != null && !removed) {
        const stale = { ...before };
        if (oldDest === dest) for (const k of Object.keys(data ?? {})) delete stale[k];
        changed = (await this.iterateData(stale, oldDest, old, resource, type, true)) || changed;
      }
    }
    return changed;
  }

  private async iterateData(data: Record<string, string>, dest: string, item: CoreObject, resource: CoreResource, type: ContentType, remove: boolean): Promise<boolean> {
    let changed = false;
    for (const [dataKey, content] of Object.entries(data)) {
      changed = (await this.updateFile(dataKey, content, dest, item, resource, type, remove)) || changed;
    }
    return changed;
  }

  /** _update_file: a `.url` key names a URL to fetch; UNIQUE_FILENAMES prefixes namespace and object. */
  private async updateFile(dataKey: string, content: string, dest: string, item: CoreObject, resource: CoreResource, type: ContentType, remove: boolean): Promise<boolean> {
    try {
      let filename = dataKey;
      let fileData = type === BINARY ? Buffer.from(content, 'base64').toString('utf8') : content;
      if (dataKey.endsWith('.url')) {
        filename = dataKey.slice(0, -4);
        if (!remove) fileData = (await this.fetchUrl(fileData.trim())) ?? '';
      }
      if (this.cfg.uniqueFilenames) {
        filename = `namespace_${item.metadata.namespace}.${resource}_${item.metadata.name}.${filename}`;
      }
      return remove ? this.removeFile(dest, filename) : this.writeFile(dest, filename, fileData, type);
    } catch (error) {
      if (this.signal.aborted) throw error;
      const reason = (error as Error).message;
      const trace = [
        'Traceback (most recent call last):',
        `  File "${APP}/resources.py", line 358, in _update_file`,
        '    return write_data_to_file(dest_folder, filename, file_data, content_type)',
        `  File "${APP}/helpers.py", line 100, in write_data_to_file`,
        `    with open(absolute_path, write_type) as f:`,
        `OSError: ${reason}`,
      ].join('\n');
      this.logger.error(`Error when updating from '${dataKey}' into '${dest}'`, trace);
      return false;
    }
  }

  /** write_data_to_file: unchanged content is left alone. */
  private writeFile(folder: string, filename: string, data: string, type: ContentType): boolean {
    const { cluster, namespace, pod, container } = this.options;
    const path = joinPath(folder, filename);
    const current = cluster.view.containerFiles(namespace, pod, container).get(path);
    if (current !== undefined && current === data) {
      this.logger.debug(`Contents of ${filename} haven't changed. Not overwriting existing file`);
      return false;
    }
    this.logger.info(`Writing ${path} (${type})`);
    const result = cluster.view.writeContainerFile(namespace, pod, container, path, data);
    if (!result.ok) throw new Error(result.message);
    return true;
  }

  /** remove_file. */
  private removeFile(folder: string, filename: string): boolean {
    const { cluster, namespace, pod, container } = this.options;
    const path = joinPath(folder, filename);
    if (!cluster.view.containerFiles(namespace, pod, container).has(path)) {
      this.logger.error(`Unable to remove ${path}, file not found`);
      return false;
    }
    this.logger.info(`Removing ${path}`);
    const result = cluster.view.removeContainerFile(namespace, pod, container, path);
    if (!result.ok) throw new Error(result.message);
    return true;
  }

  private network(): PodNetwork {
    return { view: this.options.cluster.view, namespace: this.options.namespace, podIP: this.podIP() ?? '127.0.0.1' };
  }

  private requestSettings(url: string, method: string | undefined, payload: unknown): SidecarRequest {
    const cfg = this.cfg;
    return {
      url,
      method,
      payload,
      username: cfg.username,
      password: cfg.password,
      enable5xx: cfg.enable5xx,
      timeoutSeconds: cfg.timeoutSeconds,
      retry: cfg.retry,
    };
  }

  /** helpers.request to REQ_URL with REQ_METHOD and REQ_PAYLOAD. */
  private async request(url: string): Promise<void> {
    await sidecarRequest(this.requestSettings(url, this.cfg.requestMethod, this.cfg.requestPayload), this.network(), this.logger, this.signal);
  }

  private async fetchUrl(url: string): Promise<string | undefined> {
    const res = await sidecarRequest(this.requestSettings(url, 'GET', undefined), this.network(), this.logger, this.signal);
    return res?.text;
  }

  // ---- watching ------------------------------------------------------------------------------

  /** watch_for_changes: one watcher per resource type and namespace; the process ends when one dies. */
  private async watchForChanges(): Promise<void> {
    const watchers: Promise<void>[] = [];
    const names: string[] = [];
    for (const resource of this.cfg.resources) {
      for (const ns of this.cfg.namespaces.split(',')) {
        names.push(`${ns}/${resource}`);
        watchers.push(this.watchLoop(resource, ns));
      }
    }
    const died = await Promise.race(watchers.map((w, i) => w.then(() => i, () => i)));
    if (this.signal.aborted) return;
    // The main loop notices within its 5-second tick.
    await sleep(5000, this.signal);
    this.logger.error(`Process for ${names[died]} died`);
    if (this.cfg.major < 2) {
      const frames = [this.mainFrame('watchForChanges'), `${APP}/resources.py", line ${LINES[1].loopDied}, in watch_for_changes`];
      throw new PythonCrash('Exception', 'Loop died', this.traceback(frames, 'Exception: Loop died'));
    }
    this.logger.critical('At least one process died. Stopping and exiting');
    throw new ProcessExit(1);
  }

  /** _watch_resource_loop: watch (or list every SLEEP_TIME), log and throttle errors, die on a 500. */
  private async watchLoop(resource: CoreResource, ns: string): Promise<void> {
    const cfg = this.cfg;
    const log = this.logger;
    if (cfg.major >= 2) this.initializeKubeClient(cfg.major);
    while (!this.signal.aborted) {
      try {
        if (cfg.method === 'SLEEP' || (ns !== 'ALL' && cfg.resourceName)) {
          await this.listResources(resource, ns, cfg.requestUrl, false, []);
          await sleep(cfg.sleepSeconds * 1000, this.signal);
        } else {
          await this.watchIterator(resource, ns);
        }
      } catch (error) {
        if (this.signal.aborted) return;
        const inner = error instanceof PythonCrash ? error.text : (error as Error).message;
        const api = error instanceof ApiException || (error instanceof PythonCrash && error.qualname === 'ApiException');
        const status = error instanceof ApiException ? error.status : Number(/^\((\d+)\)/.exec(inner)?.[1] ?? 0);
        if (api && status === 500) {
          // Not caught: the watcher thread dies with its traceback on stderr.
          this.options.log(`Exception in thread Thread-${this.cfg.resources.indexOf(resource) + 1} (_watch_resource_loop):`);
          this.options.log('Traceback (most recent call last):');
          this.options.log(`kubernetes.client.exceptions.ApiException: ${inner.replace(/\n$/, '')}`);
          throw error;
        }
        if (api) log.error(`ApiException when calling kubernetes: ${inner}\n`);
        else if (error instanceof MaxRetryError || (error instanceof PythonCrash && error.qualname === 'MaxRetryError')) {
          log.error(`MaxRetryError when calling kubernetes: ${inner}\n`);
        } else log.error(`Received unknown exception: ${inner}\n`);
        await sleep(cfg.errorThrottleSeconds * 1000, this.signal).catch(() => undefined);
      }
    }
  }

  /** _watch_resource_iterator: one watch stream, each event processed as it comes. */
  private async watchIterator(resource: CoreResource, ns: string): Promise<void> {
    const cfg = this.cfg;
    const log = this.logger;
    if (cfg.major >= 2) this.initializeKubeClient(cfg.major);
    const args: Record<string, unknown> = { label_selector: this.labelSelector(), timeout_seconds: cfg.watchTimeoutSeconds, _request_timeout: 66 };
    if (ns !== 'ALL') args.namespace = ns;
    log.debug(`Performing watch-based sync on ${resource} resources: ${pyRepr(args)}`);
    for await (const event of this.client!.watch(resource, ns, this.labelSelector(), cfg.watchTimeoutSeconds)) {
      if (event.type === 'BOOKMARK') continue;
      this.markReady();
      const item = event.object;
      const meta = item.metadata;
      log.debug(`Working on ${event.type} ${resource} ${meta.namespace}/${meta.name}`);
      const dest = this.destinationFolder(item);
      const changed = await this.processObject(resource, dest, item, event.type === 'DELETED');
      if (cfg.requestUrl && changed) await this.request(cfg.requestUrl);
    }
  }
}

function joinPath(folder: string, name: string): string {
  return name.startsWith('/') ? name : `${folder.replace(/\/+$/, '')}/${name}`;
}
