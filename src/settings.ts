/**
 * The contract's inputs, read once, defaulted, validated and turned into frozen `Settings`.
 * A bad value stops everything with a `SettingsError` that names the input and the expected form;
 * messages quote the offending value, except for the kubeconfig and credentials in URLs.
 */
import { isMap } from 'yaml';
import { kubeconfigDocument } from './kubeconfig-yaml.js';
import { SettingsError } from './errors.js';
import { trimTrailingSlashes } from './text.js';
import { splitOutsideParens } from './selector.js';
import { CHECK_IDS, STACK_KINDS, type AccessMode, type CheckId, type CredentialsChoice, type DashboardsChoice, type ObjectChoice, type ServiceRef, type Settings } from './types.js';

/**
 * Reads one input by its contract name. `undefined` or `''`: not given (the default applies, or
 * discovery fills it in). The action passes `name => core.getInput(name)`.
 */
export type InputReader = (name: string) => string | undefined;

/**
 * Every input's default, keyed by contract name, as action.yml and the CLI's help state them.
 * Empty means "discovered" or "the stack's default" (see the contract).
 */
export const DEFAULTS = Object.freeze({
  kubeconfig: '',
  context: '',
  stack: 'auto',
  namespace: '',
  'prometheus-service': '',
  'prometheus-selector': '',
  'grafana-service': '',
  'grafana-selector': '',
  'grafana-username': '',
  'grafana-password': '',
  'grafana-token': '',
  'grafana-credentials': 'auto',
  'datasource-configmap': '',
  'datasource-mount-path': '',
  'datasource-name': '',
  'datasource-url': '',
  'scrape-job': '',
  'expected-targets': '',
  'target-label': '',
  'min-targets-up': '1',
  'allow-down-targets': '',
  query: '',
  'max-sample-age': '',
  wait: '60s',
  'request-timeout': '10s',
  access: 'proxy',
  'prometheus-url': '',
  'grafana-url': '',
  'prometheus-path': '',
  'grafana-path': '',
  'skip-checks': '',
  'fail-on-warning': 'false',
  'report-path': '',
  'junit-path': '',
  manifests: '',
  dashboards: 'all',
} as const satisfies Record<string, string>);

export type InputName = keyof typeof DEFAULTS;

/** What the CLI's help says of an input whose default is empty. */
export const DISCOVERED: Partial<Record<InputName, string>> = {
  namespace: 'discovered',
  'prometheus-service': 'discovered',
  'prometheus-selector': 'the pods behind the Service',
  'grafana-service': 'discovered',
  'grafana-selector': 'the pods behind the Service',
  'grafana-username': 'from the credentials Secret, else admin',
  'datasource-configmap': 'discovered from the Grafana pod',
  'datasource-mount-path': '/etc/grafana/provisioning/datasources (GF_PATHS_PROVISIONING wins)',
  'datasource-name': "the stack's Prometheus datasource",
  'datasource-url': 'the URL of the Prometheus Service',
  'scrape-job': "the stack's (TaskFlow: kubernetes-pods; others: every scrape pool)",
  'expected-targets': "the stack's (TaskFlow: backend-api,postgres,redis); none: none required",
  'target-label': 'app, else app.kubernetes.io/name, else service, else job',
  query: 'up{job="<the job>"}, else up',
  'max-sample-age': "3 × the job's scrape_interval (Prometheus's configuration); 0: off",
  'prometheus-path': "the container's --web.route-prefix (else --web.external-url's path), else /",
  'grafana-path': "the container's GF_SERVER_ROOT_URL path when GF_SERVER_SERVE_FROM_SUB_PATH=true, else /",
};

const ACCESS_MODES: readonly AccessMode[] = ['proxy', 'port-forward', 'direct'];
const MAX_DURATION_MS = 60 * 60 * 1000;
const DURATION_FORM = 'expected e.g. 90, 90s, 2m or 1m30s';
const SERVICE_FORM = 'expected name:port or namespace/name:port, e.g. prometheus:9090 or monitoring/prometheus-k8s:web';
const SELECTOR_FORM =
  'expected comma-separated requirements such as app=prometheus, app!=x, tier in (a,b), tier notin (a), app or !app';
const LABEL_VALUE_FORM = "at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
const CREDENTIALS_FORM = 'expected auto, none, or secret/NAME:USERKEY:PASSWORDKEY (e.g. secret/kps-grafana:admin-user:admin-password)';
const OBJECT_FORM = 'expected NAME, configmap/NAME or secret/NAME';
const PATH_FORMS: Record<string, string> = {
  'prometheus-path': "expected a path such as /prometheus (what Prometheus's --web.route-prefix is set to), or / for none",
  'grafana-path': "expected a path such as /grafana (the path of Grafana's root_url when serve_from_sub_path is true), or / for none",
};

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export function parseSettings(read: InputReader): Settings {
  const input = (name: InputName): string => {
    const value = read(name)?.trim();
    return value === undefined || value === '' ? DEFAULTS[name] : value;
  };
  /** The input's value, or undefined when it is empty (discovered, or the stack's default). */
  const given = (name: InputName): string | undefined => input(name) || undefined;
  const optional = <T>(name: InputName, parse: (text: string) => T): T | undefined => {
    const text = given(name);
    return text === undefined ? undefined : parse(text);
  };
  const access = parseAccess(input('access'));
  return Object.freeze({
    kubeconfig: decodeKubeconfig(input('kubeconfig')),
    context: input('context'),
    stack: parseStack(input('stack')),
    namespace: optional('namespace', (t) => parseDns1123Label(t, 'namespace')),
    prometheusService: optional('prometheus-service', (t) => parseServiceRef(t, 'prometheus-service')),
    prometheusSelector: optional('prometheus-selector', (t) => parseSelector(t, 'prometheus-selector')),
    grafanaService: optional('grafana-service', (t) => parseServiceRef(t, 'grafana-service')),
    grafanaSelector: optional('grafana-selector', (t) => parseSelector(t, 'grafana-selector')),
    grafanaUsername: given('grafana-username'),
    grafanaPassword: input('grafana-password'),
    grafanaToken: input('grafana-token'),
    grafanaCredentials: parseCredentials(input('grafana-credentials')),
    datasourceObject: optional('datasource-configmap', parseObjectChoice),
    datasourceMountPath: optional('datasource-mount-path', (t) => parseAbsolutePath(t, 'datasource-mount-path')),
    datasourceName: given('datasource-name'),
    datasourceUrl: optional('datasource-url', (t) => {
      parseHttpUrl(t, 'datasource-url');
      return t;
    }),
    scrapeJob: given('scrape-job'),
    expectedTargets: optional('expected-targets', parseExpectedTargets),
    targetLabel: optional('target-label', (t) => checkLabelKey(t, 'target-label', 'expected a label name such as app or app.kubernetes.io/name')),
    minTargetsUp: parseCount(input('min-targets-up'), 'min-targets-up'),
    allowDownTargets: parseAllowDownTargets(input('allow-down-targets')),
    query: given('query'),
    maxSampleAgeMs: optional('max-sample-age', (t) => parseDuration(t, 'max-sample-age')),
    waitMs: parseDuration(input('wait'), 'wait'),
    requestTimeoutMs: parsePositiveDuration(input('request-timeout'), 'request-timeout'),
    access,
    prometheusUrl: parseDirectUrl(input('prometheus-url'), 'prometheus-url', access),
    grafanaUrl: parseDirectUrl(input('grafana-url'), 'grafana-url', access),
    prometheusPath: optional('prometheus-path', (t) => parsePathPrefix(t, 'prometheus-path')),
    grafanaPath: optional('grafana-path', (t) => parsePathPrefix(t, 'grafana-path')),
    skipChecks: parseSkipChecks(input('skip-checks')),
    failOnWarning: parseBoolean(input('fail-on-warning'), 'fail-on-warning'),
    reportPath: input('report-path'),
    junitPath: input('junit-path'),
    manifests: input('manifests'),
    dashboards: parseDashboards(input('dashboards')),
  });
}

/** `90` (seconds), `90s`, `2m`, `1m30s`, `500ms`, `1h` → milliseconds; at most one hour. */
export function parseDuration(text: string, input: string): number {
  const match = /^(?:(\d+)|(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?)$/.exec(text);
  if (text === '' || !match) throw new SettingsError(input, `${quote(text)} is not a duration; ${DURATION_FORM}`);
  const [, bare, h, m, s, ms] = match.map((part) => Number(part ?? 0));
  const total = bare * 1000 + h * 3_600_000 + m * 60_000 + s * 1000 + ms;
  if (total > MAX_DURATION_MS) {
    throw new SettingsError(input, `${quote(text)} is longer than the 1h limit; ${DURATION_FORM}`);
  }
  return total;
}

/** `[namespace/]name:port`: a DNS-1035 Service name and a port number (1–65535) or port name. */
export function parseServiceRef(text: string, input: string): ServiceRef {
  const match = /^(?:([^/:]*)\/)?([^/:]*):([^/:]*)$/.exec(text);
  if (!match) throw new SettingsError(input, `${quote(text)} is not a Service reference; ${SERVICE_FORM}`);
  const [, namespace, name, port] = match;
  if (namespace !== undefined) parseDns1123Label(namespace, input);
  if (!isDns1035Label(name)) {
    throw new SettingsError(
      input,
      `Service name ${quote(name)} is not a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, at most 63 characters); ${SERVICE_FORM}`,
    );
  }
  if (!isPortNumber(port) && !isPortName(port)) {
    throw new SettingsError(
      input,
      `port ${quote(port)} is neither a number from 1 to 65535 nor a port name (at most 15 lowercase letters, digits and '-', with at least one letter); ${SERVICE_FORM}`,
    );
  }
  return Object.freeze(namespace !== undefined ? { namespace, name, port } : { name, port });
}

/** A Kubernetes label selector, validated; returns it normalized (`a==b` → `a=b`, single spaces). */
export function parseSelector(text: string, input: string): string {
  const requirements = splitOutsideParens(text)
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (requirements.length === 0) {
    throw new SettingsError(input, `${quote(text)} selects every pod; ${SELECTOR_FORM}`);
  }
  return requirements.map((requirement) => parseRequirement(requirement, input)).join(',');
}

function parseRequirement(text: string, input: string): string {
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(text);
  if (set) {
    const [, key, op, list] = set;
    const values = list.split(',').map((value) => value.trim());
    if (values.every((value) => value === '')) {
      throw new SettingsError(input, `${quote(text)} has an empty value set; ${SELECTOR_FORM}`);
    }
    values.forEach((value) => checkLabelValue(value, input));
    return `${checkLabelKey(key, input)} ${op} (${values.join(',')})`;
  }
  const equality = /^([^\s=!(),]+)\s*(==|!=|=)\s*([^\s=!(),]*)$/.exec(text);
  if (equality) {
    const [, key, op, value] = equality;
    return `${checkLabelKey(key, input)}${op === '!=' ? '!=' : '='}${checkLabelValue(value, input)}`;
  }
  const existence = /^(!?)\s*([^\s=!(),]+)$/.exec(text);
  if (existence) {
    const [, not, key] = existence;
    return `${not}${checkLabelKey(key, input)}`;
  }
  throw new SettingsError(input, `${quote(text)} is not a selector requirement; ${SELECTOR_FORM}`);
}

function checkLabelKey(key: string, input: string, form = SELECTOR_FORM): string {
  const parts = key.split('/');
  const name = parts[parts.length - 1];
  const prefixOk = parts.length === 1 || (parts.length === 2 && isDns1123Subdomain(parts[0]));
  if (!prefixOk || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    throw new SettingsError(
      input,
      `${quote(key)} is not a label key (an optional DNS subdomain prefix and '/', then ${LABEL_VALUE_FORM}); ${form}`,
    );
  }
  return key;
}

function checkLabelValue(value: string, input: string): string {
  if (!isLabelValue(value)) {
    throw new SettingsError(input, `${quote(value)} is not a label value (${LABEL_VALUE_FORM}); ${SELECTOR_FORM}`);
  }
  return value;
}

function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && QUALIFIED_NAME.test(value));
}

function isDns1035Label(text: string): boolean {
  return text.length <= 63 && DNS1035_LABEL.test(text);
}

function isDns1123Subdomain(text: string): boolean {
  return text.length <= 253 && text.split('.').every((label) => DNS1123_LABEL.test(label));
}

function isPortNumber(text: string): boolean {
  return /^[1-9]\d{0,4}$/.test(text) && Number(text) <= 65535;
}

/** An IANA service name, as Kubernetes accepts for named ports. */
function isPortName(text: string): boolean {
  return text.length <= 15 && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(text) && /[a-z]/.test(text);
}

function parseDns1123Label(text: string, input: string): string {
  if (text.length > 63 || !DNS1123_LABEL.test(text)) {
    throw new SettingsError(
      input,
      `${quote(text)} is not a DNS-1123 label; expected lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`,
    );
  }
  return text;
}

function parseDns1123Subdomain(text: string, input: string, what = 'an object name'): string {
  if (!isDns1123Subdomain(text)) {
    throw new SettingsError(
      input,
      `${quote(text)} is not ${what}; expected a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters`,
    );
  }
  return text;
}

/** `NAME`, `configmap/NAME` or `secret/NAME` (kinds as kubectl spells them, any case). */
function parseObjectChoice(text: string): ObjectChoice {
  const match = /^(?:([A-Za-z]+)\/)?([^/]*)$/.exec(text);
  if (!match) throw new SettingsError('datasource-configmap', `${quote(text)} is not an object reference; ${OBJECT_FORM}`);
  const [, kindText, name] = match;
  const kind = kindText === undefined ? undefined : ({ configmap: 'ConfigMap', cm: 'ConfigMap', secret: 'Secret' } as const)[kindText.toLowerCase() as 'configmap'];
  if (kindText !== undefined && !kind) throw new SettingsError('datasource-configmap', `${quote(kindText)} is not configmap or secret; ${OBJECT_FORM}`);
  parseDns1123Subdomain(name, 'datasource-configmap', 'a ConfigMap or Secret name');
  return Object.freeze(kind ? { kind, name } : { name });
}

/** `auto`, `none`, or `secret/NAME:USERKEY:PASSWORDKEY`. */
function parseCredentials(text: string): CredentialsChoice {
  const lower = text.toLowerCase();
  if (lower === 'auto' || lower === 'none') return Object.freeze({ mode: lower });
  const match = /^secret\/([^:]+):([^:]+):([^:]+)$/i.exec(text);
  if (!match) throw new SettingsError('grafana-credentials', `${quote(text)} is not a credentials source; ${CREDENTIALS_FORM}`);
  const [, name, userKey, passwordKey] = match;
  parseDns1123Subdomain(name, 'grafana-credentials', 'a Secret name');
  for (const key of [userKey, passwordKey]) {
    if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253) {
      throw new SettingsError('grafana-credentials', `${quote(key)} is not a Secret key (letters, digits, '-', '_' or '.'); ${CREDENTIALS_FORM}`);
    }
  }
  return Object.freeze({ mode: 'secret', name, userKey, passwordKey });
}

function parseStack(text: string): Settings['stack'] {
  const value = text.toLowerCase();
  if (value === 'auto') return 'auto';
  const kind = STACK_KINDS.find((k) => k === value);
  if (!kind) throw new SettingsError('stack', `${quote(text)} is not a stack; expected auto, ${STACK_KINDS.join(', ')}`);
  return kind;
}

/** An absolute path inside the container, without a trailing slash. */
function parseAbsolutePath(text: string, input: string): string {
  if (!text.startsWith('/') || /[\0\r\n]/.test(text)) {
    throw new SettingsError(input, `${quote(text)} is not an absolute path; expected e.g. /etc/grafana/provisioning/datasources`);
  }
  return trimTrailingSlashes(text) || '/';
}

function parseBoolean(text: string, input: string): boolean {
  const value = text.toLowerCase();
  if (['true', 'yes', '1'].includes(value)) return true;
  if (['false', 'no', '0'].includes(value)) return false;
  throw new SettingsError(input, `${quote(text)} is not a boolean; expected true or false (or yes/no, 1/0)`);
}

function parseCount(text: string, input: string): number {
  const count = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(count)) {
    throw new SettingsError(input, `${quote(text)} is not a whole number; expected 0, 1, 2, …`);
  }
  return count;
}

function parsePositiveDuration(text: string, input: string): number {
  const ms = parseDuration(text, input);
  if (ms === 0) throw new SettingsError(input, `${quote(text)} is zero; expected a positive duration, e.g. 10s`);
  return ms;
}

/** A comma- or newline-separated list: trimmed, without empty entries or repeats. */
function splitList(text: string): string[] {
  const items = text
    .split(/[,\r\n]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return [...new Set(items)];
}

function parseExpectedTargets(text: string): readonly string[] {
  if (text.toLowerCase() === 'none') return Object.freeze([]);
  const apps = splitList(text);
  for (const app of apps) {
    if (!isLabelValue(app)) {
      throw new SettingsError(
        'expected-targets',
        `${quote(app)} is not a label value (${LABEL_VALUE_FORM}); expected a comma-separated list of values of target-label such as backend-api,postgres,redis, or none`,
      );
    }
  }
  return Object.freeze(apps);
}

/**
 * Globs (`*` any run of characters, `?` one) on a target's scrape pool, job or instance, e.g.
 * serviceMonitor/kube-system/kube-controller-manager/* — managed clusters hide their control
 * plane, so those targets are always DOWN.
 */
function parseAllowDownTargets(text: string): readonly string[] {
  const globs = splitList(text);
  for (const glob of globs) {
    if (glob.length > 512 || /\s/.test(glob)) {
      throw new SettingsError(
        'allow-down-targets',
        `${quote(glob)} is not a glob on a scrape pool, job or instance; expected a comma-separated list such as serviceMonitor/kube-system/kube-controller-manager/*,kube-scheduler`,
      );
    }
  }
  return Object.freeze(globs);
}

const DASHBOARDS_FORM = 'expected all, none, or a comma-separated list of dashboard uids, tag:NAME and folder:NAME (e.g. k8s-resources-cluster,tag:kubernetes-mixin)';

/**
 * `all`, `none`, or uids (Grafana's short uids: at most 40 letters, digits, `-` or `_`),
 * `tag:NAME` and `folder:NAME` (a folder's title or uid), comma- or newline-separated.
 */
function parseDashboards(text: string): DashboardsChoice {
  const lower = text.toLowerCase();
  if (lower === 'all' || lower === 'none') return Object.freeze({ mode: lower });
  const uids: string[] = [];
  const tags: string[] = [];
  const folders: string[] = [];
  for (const item of splitList(text)) {
    const colon = item.indexOf(':');
    const prefix = colon === -1 ? '' : item.slice(0, colon).trim().toLowerCase();
    const value = colon === -1 ? item : item.slice(colon + 1).trim();
    if (['all', 'none'].includes(item.toLowerCase())) throw new SettingsError('dashboards', `${quote(item)} cannot be combined with other entries; ${DASHBOARDS_FORM}`);
    if (prefix === 'tag' || prefix === 'folder') {
      if (value === '') throw new SettingsError('dashboards', `${quote(item)} names no ${prefix}; ${DASHBOARDS_FORM}`);
      (prefix === 'tag' ? tags : folders).push(value);
    } else if (colon !== -1) {
      throw new SettingsError('dashboards', `${quote(item)} is neither a uid nor tag:NAME nor folder:NAME; ${DASHBOARDS_FORM}`);
    } else if (!/^[A-Za-z0-9_-]{1,40}$/.test(item)) {
      throw new SettingsError('dashboards', `${quote(item)} is not a dashboard uid (at most 40 letters, digits, '-' or '_'); ${DASHBOARDS_FORM}`);
    } else uids.push(item);
  }
  if (uids.length + tags.length + folders.length === 0) throw new SettingsError('dashboards', `${quote(text)} names no dashboard; ${DASHBOARDS_FORM}`);
  return Object.freeze({ mode: 'named', uids: Object.freeze(uids), tags: Object.freeze(tags), folders: Object.freeze(folders) });
}

function parseSkipChecks(text: string): readonly CheckId[] {
  const ids = splitList(text);
  for (const id of ids) {
    if (!isCheckId(id)) {
      throw new SettingsError('skip-checks', `unknown check id ${quote(id)}; valid ids: ${CHECK_IDS.join(', ')}`);
    }
  }
  return Object.freeze(CHECK_IDS.filter((id) => ids.includes(id)));
}

function isCheckId(text: string): text is CheckId {
  return (CHECK_IDS as readonly string[]).includes(text);
}

function parseAccess(text: string): AccessMode {
  const mode = ACCESS_MODES.find((candidate) => candidate === text.toLowerCase());
  if (!mode) throw new SettingsError('access', `${quote(text)} is not an access mode; expected proxy, port-forward or direct`);
  return mode;
}

/**
 * A path prefix (`prometheus-path`, `grafana-path`) as Prometheus normalizes its route prefix
 * (cmd/prometheus/main.go: `"/" + strings.Trim(prefix, "/")`): `/prometheus`, `prometheus/` and
 * `/prometheus/` are the same; `/` is none (returned as `''`). Segments are RFC 3986 path
 * characters; `.`, `..` and empty segments are refused, since the prefix goes into the API
 * server's service-proxy path.
 */
export function parsePathPrefix(text: string, input: string): string {
  const form = PATH_FORMS[input] ?? 'expected a path such as /prefix, or / for none';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw new SettingsError(input, `${quote(text)} is a URL; ${form}`);
  const trimmed = trimTrailingSlashes(text).replace(/^\/+/, '');
  if (trimmed === '') return '';
  const segments = trimmed.split('/');
  // A segment is compared decoded too: `%2e%2e` is `..`, `%2f` a slash, once a server decodes it.
  const decoded = (seg: string): string => seg.replace(/%2e/gi, '.').replace(/%2f/gi, '/');
  const dotted = (seg: string): boolean => ['.', '..'].includes(decoded(seg)) || decoded(seg).includes('/');
  const bad = segments.find((seg) => seg === '' || dotted(seg) || !/^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$/.test(seg));
  if (bad !== undefined || trimmed.length > 255) {
    // A segment of something URL-like (`//user:password@host`) may hold the password: shown without its userinfo.
    const shown = (seg: string): string => quote(text.includes('//') && seg.includes('@') ? seg.replace(/^.*@/s, '***@') : seg);
    const why = bad === undefined ? 'is longer than 255 characters' : bad === '' ? 'has an empty segment (//)' : dotted(bad) ? `has a ${shown(bad)} segment` : `has characters a URL path cannot carry in ${shown(bad)}`;
    throw new SettingsError(input, `${quote(text)} ${why}; ${form}`);
  }
  return `/${trimmed}`;
}

/** `prometheus-url` / `grafana-url`: required with `access: direct`, refused otherwise. */
function parseDirectUrl(text: string, input: string, access: AccessMode): string {
  const example = input === 'grafana-url' ? 'https://grafana.example.com' : 'https://prometheus.example.com';
  if (access !== 'direct') {
    if (text === '') return '';
    throw new SettingsError(input, `it is only used with access 'direct' (access is '${access}'); set access to direct or leave it empty`);
  }
  if (text === '') {
    throw new SettingsError(input, `it is required with access 'direct'; expected an http(s) base URL, e.g. ${example}`);
  }
  const url = parseHttpUrl(text, input);
  if (url.search || url.hash) {
    throw new SettingsError(input, `${quote(url.href)} has a query or fragment; expected a base URL, e.g. ${example}`);
  }
  return trimTrailingSlashes(url.href);
}

/** An absolute http(s) URL without credentials; messages never show a `user:password@` part. */
function parseHttpUrl(text: string, input: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError(input, `${quote(hideUserinfo(text))} is not an absolute URL; expected e.g. http://host:port`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new SettingsError(
      input,
      'the URL carries credentials (user:password@…), which would end up in logs; remove them from the URL',
      input === 'grafana-url' ? 'Pass Grafana credentials in grafana-username/grafana-password or grafana-token.' : undefined,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SettingsError(input, `${quote(url.href)} is not an http(s) URL; expected e.g. http://host:port`);
  }
  return url;
}

function hideUserinfo(text: string): string {
  return text.replace(/^([^/]*\/\/)?.*@/s, (_, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

/**
 * The kubeconfig input as YAML: as given when it is a YAML mapping, decoded when it is base64 of
 * one. Its content is never quoted in a message.
 */
function decodeKubeconfig(text: string): string {
  if (text === '') return '';
  const compact = text.replace(/\s+/g, '');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) {
    const decoded = Buffer.from(compact, 'base64').toString('utf8').trim();
    if (/apiVersion|clusters/.test(decoded) && isYamlMapping(decoded)) return decoded;
  }
  if (isYamlMapping(text)) return text;
  throw new SettingsError(
    'kubeconfig',
    "it is neither kubeconfig YAML (a mapping with apiVersion, clusters, users, contexts) nor base64 of it (its content is not shown here); expected the kubeconfig file's content, not its path",
  );
}

function isYamlMapping(text: string): boolean {
  const doc = kubeconfigDocument(text);
  return doc.errors.length === 0 && isMap(doc.contents);
}

/**
 * A value quoted for a message: JSON-escaped, long values cut, and the `user:password@` part of
 * anything URL-like hidden, whichever input it was given to.
 */
function quote(text: string): string {
  const slashes = text.indexOf('//');
  const shown = slashes !== -1 && text.lastIndexOf('@') > slashes ? hideUserinfo(text) : text;
  return JSON.stringify(shown.length > 80 ? `${shown.slice(0, 79)}…` : shown);
}
