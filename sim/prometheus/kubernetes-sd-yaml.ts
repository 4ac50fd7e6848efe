/**
 * A `kubernetes_sd_configs` entry as Prometheus 2.42 shows it in its loaded configuration
 * (`GET /api/v1/status/config`, i.e. `yaml.Marshal` of the config it unmarshalled): the fields of
 * discovery/kubernetes/kubernetes.go `SDConfig` in struct order (`api_server` when given, `role`,
 * `kubeconfig_file` always, the inline prometheus/common v0.39.0 `HTTPClientConfig`, then
 * `namespaces`, `selectors`, `attach_metadata` when not empty), with the defaults its
 * UnmarshalYAML applies (`DefaultHTTPClientConfig`: follow_redirects and enable_http2 true), what
 * `HTTPClientConfig.Validate` rewrites (`bearer_token[_file]` become `authorization` of type
 * Bearer, an empty authorization type becomes Bearer), relative file names joined to the
 * configuration file's directory (`SetDirectory`), and secrets shown as `<secret>`.
 */
import { posix } from 'node:path';
import { bool, map, nil, seq, str, type GoNode } from './go-yaml.js';

type Obj = Record<string, unknown>;

/** prometheus/common config.Secret's MarshalYAML. */
export const SECRET = '<secret>';

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A scalar as Go's yaml.v2 decodes it into a string field. */
function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : String(value);
}

function flag(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

/** prometheus/common config.JoinDir: relative paths are relative to the configuration file. */
function joinDir(dir: string, path: string): string {
  if (path === '' || posix.isAbsolute(path) || dir === '') return path;
  const joined = posix.join(dir, path);
  return joined.length > 1 ? joined.replace(/\/+$/, '') : joined;
}

/** net/url URL.Redacted: the password of the user info becomes `xxxxx`. */
function redactUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@:?#]*):[^/@?#]*@/, '$1:xxxxx@');
}

/** The non-empty entries (omitempty), in order. */
function omitEmpty(entries: Array<[string, GoNode | undefined]>): Array<[string, GoNode]> {
  return entries.filter((e): e is [string, GoNode] => e[1] !== undefined);
}

const nonEmpty = (value: string): GoNode | undefined => (value === '' ? undefined : str(value));
const secret = (value: unknown): GoNode | undefined => (text(value) === '' ? undefined : str(SECRET));

function tlsConfig(raw: unknown, dir: string): GoNode | undefined {
  const tls = isObj(raw) ? raw : {};
  const fields: Array<[string, GoNode | undefined]> = [
    ['ca_file', nonEmpty(joinDir(dir, text(tls.ca_file)))],
    ['cert_file', nonEmpty(joinDir(dir, text(tls.cert_file)))],
    ['key_file', nonEmpty(joinDir(dir, text(tls.key_file)))],
    ['server_name', nonEmpty(text(tls.server_name))],
  ];
  const insecure = flag(tls.insecure_skip_verify, false);
  const min = nonEmpty(text(tls.min_version));
  const max = nonEmpty(text(tls.max_version));
  // A struct is omitted (omitempty) when every field is zero.
  if (fields.every(([, v]) => v === undefined) && !insecure && !min && !max) return undefined;
  return map(omitEmpty([...fields, ['insecure_skip_verify', bool(insecure)], ['min_version', min], ['max_version', max]]));
}

function authorization(sd: Obj, dir: string, validated: boolean): GoNode | undefined {
  if (isObj(sd.authorization)) {
    const auth = sd.authorization;
    const type = validated ? text(auth.type).trim() || 'Bearer' : text(auth.type);
    return map(omitEmpty([['type', nonEmpty(type)], ['credentials', secret(auth.credentials)], ['credentials_file', nonEmpty(joinDir(dir, text(auth.credentials_file)))]]));
  }
  if (!validated) return undefined;
  if (text(sd.bearer_token) !== '') return map([['type', str('Bearer')], ['credentials', str(SECRET)]]);
  if (text(sd.bearer_token_file) !== '') return map([['type', str('Bearer')], ['credentials_file', str(joinDir(dir, text(sd.bearer_token_file)))]]);
  return undefined;
}

function basicAuth(raw: unknown, dir: string): GoNode | undefined {
  if (!isObj(raw)) return undefined;
  return map(omitEmpty([['username', str(text(raw.username))], ['password', secret(raw.password)], ['password_file', nonEmpty(joinDir(dir, text(raw.password_file)))]]));
}

function sortedKeys(raw: unknown): string[] {
  return isObj(raw) ? Object.keys(raw).sort() : [];
}

function oauth2(raw: unknown, dir: string): GoNode | undefined {
  if (!isObj(raw)) return undefined;
  const scopes = Array.isArray(raw.scopes) ? raw.scopes.map(text) : [];
  const params = sortedKeys(raw.endpoint_params);
  return map(
    omitEmpty([
      ['client_id', str(text(raw.client_id))],
      ['client_secret', secret(raw.client_secret) ?? nil],
      ['client_secret_file', str(joinDir(dir, text(raw.client_secret_file)))],
      ['scopes', scopes.length ? seq(scopes.map(str)) : undefined],
      ['token_url', str(text(raw.token_url))],
      ['endpoint_params', params.length ? map(params.map((k) => [k, str(text((raw.endpoint_params as Obj)[k]))])) : undefined],
      ['proxy_url', nonEmpty(redactUrl(text(raw.proxy_url)))],
      ['tls_config', tlsConfig(raw.tls_config, dir)],
    ]),
  );
}

function proxyConnectHeader(raw: unknown): GoNode | undefined {
  const keys = sortedKeys(raw);
  if (keys.length === 0) return undefined;
  return map(keys.map((k) => {
    const values = (raw as Obj)[k];
    return [k, seq((Array.isArray(values) ? values : [values]).map(() => str(SECRET)))];
  }));
}

/**
 * The inline HTTPClientConfig fields, in struct order. `validated`: as `Validate` leaves them
 * (kubernetes_sd_configs and scrape configs call it; http_sd_configs do not).
 */
export function httpClientEntries(sd: Obj, dir: string, validated = true): Array<[string, GoNode]> {
  return omitEmpty([
    ['basic_auth', basicAuth(sd.basic_auth, dir)],
    ['authorization', authorization(sd, dir, validated)],
    ['oauth2', oauth2(sd.oauth2, dir)],
    ['bearer_token', validated ? undefined : secret(sd.bearer_token)],
    ['bearer_token_file', validated ? undefined : nonEmpty(joinDir(dir, text(sd.bearer_token_file)))],
    ['proxy_url', nonEmpty(redactUrl(text(sd.proxy_url)))],
    ['proxy_connect_header', proxyConnectHeader(sd.proxy_connect_header)],
    ['tls_config', tlsConfig(sd.tls_config, dir)],
    ['follow_redirects', bool(flag(sd.follow_redirects, true))],
    ['enable_http2', bool(flag(sd.enable_http2, true))],
  ]);
}

function namespaces(raw: unknown): GoNode | undefined {
  if (!isObj(raw)) return undefined;
  const own = flag(raw.own_namespace, false);
  const names = Array.isArray(raw.names) ? raw.names.map(text) : [];
  if (!own && names.length === 0) return undefined;
  return map([['own_namespace', bool(own)], ['names', seq(names.map(str))]]);
}

function selectors(raw: unknown): GoNode | undefined {
  const list = Array.isArray(raw) ? raw.filter(isObj) : [];
  if (list.length === 0) return undefined;
  return seq(list.map((s) => map(omitEmpty([['role', nonEmpty(text(s.role))], ['label', nonEmpty(text(s.label))], ['field', nonEmpty(text(s.field))]]))));
}

/** One `kubernetes_sd_configs` entry as the marshalled configuration holds it. */
export function kubernetesSdNode(sd: Obj, configDir: string): GoNode {
  const attach = isObj(sd.attach_metadata) && sd.attach_metadata.node === true;
  return map(
    omitEmpty([
      ['api_server', nonEmpty(redactUrl(text(sd.api_server)))],
      ['role', str(text(sd.role))],
      ['kubeconfig_file', str(joinDir(configDir, text(sd.kubeconfig_file)))],
      ...httpClientEntries(sd, configDir),
      ['namespaces', namespaces(sd.namespaces)],
      ['selectors', selectors(sd.selectors)],
      ['attach_metadata', attach ? map([['node', bool(true)]]) : undefined],
    ]),
  );
}
