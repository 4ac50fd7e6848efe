import { describe, expect, it } from '@jest/globals';
import { MfcError, SettingsError } from '../src/errors.js';
import { DEFAULTS, parseDuration, parseSelector, parseServiceRef, parseSettings } from '../src/settings.js';
import { CHECK_IDS } from '../src/types.js';

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: kind
  cluster:
    server: https://127.0.0.1:6443
contexts:
- name: kind
  context: {cluster: kind, user: admin}
current-context: kind
users:
- name: admin
  user: {token: abc123}
`;

/** Settings from the given inputs; every other input is not given. */
function parse(inputs: Record<string, string> = {}) {
  return parseSettings((name) => inputs[name]);
}

/** The SettingsError thrown for `inputs`. */
function errorFor(inputs: Record<string, string>): SettingsError {
  try {
    parse(inputs);
  } catch (err) {
    if (err instanceof SettingsError) return err;
    throw err;
  }
  throw new Error(`no error for ${JSON.stringify(inputs)}`);
}

describe('errors', () => {
  it('SettingsError is an MfcError naming the input, in the documented form', () => {
    const err = new SettingsError('request-timeout', '"10x" is not a duration; expected e.g. 90, 90s, 2m or 1m30s');
    expect(err).toBeInstanceOf(MfcError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('SettingsError');
    expect(err.input).toBe('request-timeout');
    expect(err.message).toBe(
      `Input 'request-timeout' is invalid: "10x" is not a duration; expected e.g. 90, 90s, 2m or 1m30s.`,
    );
  });

  it('MfcError carries an optional hint', () => {
    const err = new MfcError('Grafana refused the login', 'Check grafana-password.');
    expect(err.name).toBe('MfcError');
    expect(err.hint).toBe('Check grafana-password.');
    expect(new MfcError('x').hint).toBeUndefined();
  });
});

describe('defaults', () => {
  it('DEFAULTS lists every contract input with its contract default (empty: discovered or the stack\'s)', () => {
    expect(DEFAULTS).toEqual({
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
    });
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
  });

  it('no input given leaves everything discovery finds undefined', () => {
    expect(parse()).toEqual({
      kubeconfig: '',
      context: '',
      stack: 'auto',
      namespace: undefined,
      prometheusService: undefined,
      prometheusSelector: undefined,
      grafanaService: undefined,
      grafanaSelector: undefined,
      grafanaUsername: undefined,
      grafanaPassword: '',
      grafanaToken: '',
      grafanaCredentials: { mode: 'auto' },
      datasourceObject: undefined,
      datasourceMountPath: undefined,
      datasourceName: undefined,
      datasourceUrl: undefined,
      scrapeJob: undefined,
      expectedTargets: undefined,
      targetLabel: undefined,
      minTargetsUp: 1,
      allowDownTargets: [],
      query: undefined,
      maxSampleAgeMs: undefined,
      waitMs: 60_000,
      requestTimeoutMs: 10_000,
      access: 'proxy',
      prometheusUrl: '',
      grafanaUrl: '',
      prometheusPath: undefined,
      grafanaPath: undefined,
      skipChecks: [],
      failOnWarning: false,
      reportPath: '',
      junitPath: '',
      manifests: '',
      dashboards: { mode: 'all' },
    });
  });

  it('the DEFAULTS strings, read as inputs, give the same settings as no input', () => {
    expect(parseSettings((name) => DEFAULTS[name as keyof typeof DEFAULTS])).toEqual(parse());
  });

  it('empty or blank inputs mean the default', () => {
    const blank = parseSettings(() => '  ');
    expect(blank).toEqual(parse());
  });

  it('expected-targets none requires no target; empty means the stack\'s default', () => {
    expect(parse({ 'expected-targets': 'none' }).expectedTargets).toEqual([]);
    expect(parse({ 'expected-targets': 'NONE' }).expectedTargets).toEqual([]);
    expect(parse({ 'expected-targets': ' , \n ' }).expectedTargets).toEqual([]);
    expect(parse({ 'expected-targets': '' }).expectedTargets).toBeUndefined();
  });

  it('trims values', () => {
    const s = parse({ namespace: '  monitoring\n', 'scrape-job': ' pods ', query: ' up ' });
    expect(s.namespace).toBe('monitoring');
    expect(s.scrapeJob).toBe('pods');
    expect(s.query).toBe('up');
  });

  it('returns deeply frozen settings', () => {
    const s = parse({ 'skip-checks': 'grafana-query', 'expected-targets': 'a', 'prometheus-service': 'p:9090', 'grafana-service': 'g:80' });
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.expectedTargets)).toBe(true);
    expect(Object.isFrozen(s.skipChecks)).toBe(true);
    expect(Object.isFrozen(s.prometheusService)).toBe(true);
    expect(Object.isFrozen(s.grafanaService)).toBe(true);
    expect(Object.isFrozen(s.grafanaCredentials)).toBe(true);
  });

  it('passes plain text inputs through', () => {
    const s = parse({
      context: 'kind-dev',
      'grafana-username': 'viewer',
      'datasource-name': 'Prom (main)',
      'scrape-job': 'pods',
      query: 'sum(up)',
      'report-path': 'out/report.json',
      'junit-path': 'out/junit.xml',
      manifests: 'k8s/**/*.yaml, charts/*.yml',
    });
    expect(s).toMatchObject({
      manifests: 'k8s/**/*.yaml, charts/*.yml',
      context: 'kind-dev',
      grafanaUsername: 'viewer',
      datasourceName: 'Prom (main)',
      scrapeJob: 'pods',
      query: 'sum(up)',
      reportPath: 'out/report.json',
      junitPath: 'out/junit.xml',
    });
  });

  it('reads max-sample-age as a duration: 0 turns freshness off, a bad value names the input', () => {
    expect(parse({ 'max-sample-age': '2m' }).maxSampleAgeMs).toBe(120_000);
    expect(parse({ 'max-sample-age': '45' }).maxSampleAgeMs).toBe(45_000);
    expect(parse({ 'max-sample-age': '0' }).maxSampleAgeMs).toBe(0);
    expect(() => parse({ 'max-sample-age': 'fresh' })).toThrow('"fresh" is not a duration');
    expect(() => parse({ 'max-sample-age': 'fresh' })).toThrow(expect.objectContaining({ input: 'max-sample-age' }));
  });
});

describe('durations', () => {
  it.each([
    ['90', 90_000],
    ['90s', 90_000],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['1m5ms', 60_005],
    ['0', 0],
    ['0s', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, 'wait')).toBe(ms);
  });

  it.each(['10x', '1.5s', '-1', 's', 'm1', '1s1m', '1 m', '10S', 'ms'])('rejects %s', (text) => {
    const err = errorFor({ 'request-timeout': text });
    expect(err.input).toBe('request-timeout');
    expect(err.message).toBe(
      `Input 'request-timeout' is invalid: ${JSON.stringify(text)} is not a duration; expected e.g. 90, 90s, 2m or 1m30s.`,
    );
  });

  it('caps durations at one hour', () => {
    expect(() => parseDuration('61m', 'wait')).toThrow(/"61m" is longer than the 1h limit/);
    const err = errorFor({ wait: '2h' });
    expect(err.input).toBe('wait');
    expect(err.message).toMatch(/^Input 'wait' is invalid: "2h" is longer than the 1h limit; expected e\.g\. 90/);
    expect(() => parseDuration('99999999999999999999', 'wait')).toThrow(/1h limit/);
  });

  it('wait may be 0; request-timeout may not', () => {
    expect(parse({ wait: '0' }).waitMs).toBe(0);
    expect(parse({ wait: '2m', 'request-timeout': '500ms' })).toMatchObject({ waitMs: 120_000, requestTimeoutMs: 500 });
    const err = errorFor({ 'request-timeout': '0s' });
    expect(err.input).toBe('request-timeout');
    expect(err.message).toMatch(/"0s" is zero; expected a positive duration/);
  });
});

describe('service references', () => {
  it.each([
    ['prometheus:9090', { name: 'prometheus', port: '9090' }],
    ['kube-prometheus-stack-prometheus:web', { name: 'kube-prometheus-stack-prometheus', port: 'web' }],
    ['p:1', { name: 'p', port: '1' }],
    ['grafana:65535', { name: 'grafana', port: '65535' }],
    ['grafana:http-metrics', { name: 'grafana', port: 'http-metrics' }],
  ])('accepts %s', (text, ref) => {
    expect(parseServiceRef(text, 'grafana-service')).toEqual(ref);
  });

  it.each([
    ['monitoring/prometheus-k8s:web', { namespace: 'monitoring', name: 'prometheus-k8s', port: 'web' }],
    ['monitoring/kps-grafana:80', { namespace: 'monitoring', name: 'kps-grafana', port: '80' }],
  ])('accepts %s with its namespace', (text, ref) => {
    expect(parseServiceRef(text, 'prometheus-service')).toEqual(ref);
  });

  it.each(['prometheus', 'prometheus:9090:1', ':9090', 'a/b/c:9090'])('rejects %s as not name:port', (text) => {
    const err = errorFor({ 'grafana-service': text });
    expect(err.input).toBe('grafana-service');
    expect(err.message).toContain(`Input 'grafana-service' is invalid:`);
    expect(err.message).toContain('expected name:port or namespace/name:port, e.g. prometheus:9090');
  });

  it('rejects a namespace that is not a DNS-1123 label', () => {
    const err = errorFor({ 'grafana-service': 'Monitoring/grafana:80' });
    expect(err.input).toBe('grafana-service');
    expect(err.message).toContain('"Monitoring" is not a DNS-1123 label');
  });

  it.each(['Prometheus:9090', '9prom:9090', 'prom-:9090', `${'a'.repeat(64)}:9090`, 'prom.ns:9090'])(
    'rejects the Service name in %s',
    (text) => {
      const err = errorFor({ 'prometheus-service': text });
      expect(err.input).toBe('prometheus-service');
      expect(err.message).toMatch(/Service name ".*" is not a DNS-1035 label/);
      expect(err.message).toContain('expected name:port');
    },
  );

  it.each(['prometheus:0', 'prometheus:65536', 'prometheus:', 'prometheus:09090', 'prometheus:Web', 'prometheus:a--b', 'prometheus:very-long-port-name'])(
    'rejects the port in %s',
    (text) => {
      const err = errorFor({ 'prometheus-service': text });
      expect(err.input).toBe('prometheus-service');
      expect(err.message).toMatch(/port ".*" is neither a number from 1 to 65535 nor a port name/);
    },
  );
});

describe('label selectors', () => {
  it.each([
    ['app=prometheus', 'app=prometheus'],
    ['app==prometheus', 'app=prometheus'],
    [' app = prometheus ', 'app=prometheus'],
    ['app!=grafana', 'app!=grafana'],
    ['app.kubernetes.io/name=grafana,tier in (a, b)', 'app.kubernetes.io/name=grafana,tier in (a,b)'],
    ['tier notin (x)', 'tier notin (x)'],
    ['app', 'app'],
    ['! app', '!app'],
    ['app=', 'app='],
    ['app=prometheus,,', 'app=prometheus'],
    ['a in (x,y),b notin (z),!c,d', 'a in (x,y),b notin (z),!c,d'],
  ])('accepts %s as %s', (text, normalized) => {
    expect(parseSelector(text, 'grafana-selector')).toBe(normalized);
  });

  it('keeps the normalized selector in the settings', () => {
    expect(parse({ 'prometheus-selector': 'app == prometheus , release in (main)' }).prometheusSelector).toBe(
      'app=prometheus,release in (main)',
    );
  });

  it.each([
    ['app=a=b', /is not a selector requirement/],
    ['app>1', /"app>1" is not a label key/],
    ['tier in (a,b', /is not a selector requirement/],
    ['tier in ()', /has an empty value set/],
    ['app=bad value', /is not a selector requirement/],
    ['-app=x', /"-app" is not a label key/],
    ['Bad_Prefix/app=x', /"Bad_Prefix\/app" is not a label key/],
    ['a/b/c=x', /is not a label key/],
    ['app=-x', /"-x" is not a label value/],
    [`app=${'v'.repeat(64)}`, /is not a label value/],
    [',', /selects every pod/],
  ])('rejects %s', (text, problem) => {
    const err = errorFor({ 'prometheus-selector': text });
    expect(err.input).toBe('prometheus-selector');
    expect(err.message).toMatch(/^Input 'prometheus-selector' is invalid: /);
    expect(err.message).toMatch(problem);
    expect(err.message).toContain('expected comma-separated requirements such as app=prometheus');
  });
});

describe('names and paths', () => {
  it('accepts a DNS-1123 namespace and ConfigMap name', () => {
    const s = parse({ namespace: 'monitoring-2', 'datasource-configmap': 'grafana.datasources-v2' });
    expect(s.namespace).toBe('monitoring-2');
    expect(s.datasourceObject).toEqual({ name: 'grafana.datasources-v2' });
  });

  it.each([
    ['configmap/kps-datasource', { kind: 'ConfigMap', name: 'kps-datasource' }],
    ['cm/kps-datasource', { kind: 'ConfigMap', name: 'kps-datasource' }],
    ['secret/grafana-datasources', { kind: 'Secret', name: 'grafana-datasources' }],
    ['Secret/grafana-datasources', { kind: 'Secret', name: 'grafana-datasources' }],
  ])('takes datasource-configmap %s with its kind', (text, object) => {
    expect(parse({ 'datasource-configmap': text }).datasourceObject).toEqual(object);
  });

  it('rejects a datasource object of another kind', () => {
    const err = errorFor({ 'datasource-configmap': 'deployment/grafana' });
    expect(err.input).toBe('datasource-configmap');
    expect(err.message).toContain('"deployment" is not configmap or secret; expected NAME, configmap/NAME or secret/NAME');
  });

  it.each(['Taskflow', 'task_flow', 'taskflow-', 'a.b', 'n'.repeat(64)])('rejects namespace %s', (text) => {
    const err = errorFor({ namespace: text });
    expect(err.input).toBe('namespace');
    expect(err.message).toContain('is not a DNS-1123 label; expected lowercase letters, digits');
  });

  it.each(['Grafana-Datasources', 'grafana..datasources', 'grafana_datasources', 'c'.repeat(254)])(
    'rejects ConfigMap name %s',
    (text) => {
      const err = errorFor({ 'datasource-configmap': text });
      expect(err.input).toBe('datasource-configmap');
      expect(err.message).toContain('is not a ConfigMap or Secret name; expected a DNS-1123 subdomain');
    },
  );

  it('takes an absolute mount path, without a trailing slash', () => {
    expect(parse({ 'datasource-mount-path': '/etc/grafana/provisioning/datasources/' }).datasourceMountPath).toBe(
      '/etc/grafana/provisioning/datasources',
    );
    expect(parse({ 'datasource-mount-path': '/' }).datasourceMountPath).toBe('/');
  });

  it.each(['etc/grafana', './provisioning', '~/datasources'])('rejects mount path %s', (text) => {
    const err = errorFor({ 'datasource-mount-path': text });
    expect(err.input).toBe('datasource-mount-path');
    expect(err.message).toContain('is not an absolute path; expected e.g. /etc/grafana/provisioning/datasources');
  });
});

describe('booleans and counts', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['Yes', true],
    ['1', true],
    ['false', false],
    ['False', false],
    ['no', false],
    ['0', false],
  ])('fail-on-warning %s is %s', (text, value) => {
    expect(parse({ 'fail-on-warning': text }).failOnWarning).toBe(value);
  });

  it.each(['on', 'y', '2', 'truthy'])('rejects fail-on-warning %s', (text) => {
    const err = errorFor({ 'fail-on-warning': text });
    expect(err.input).toBe('fail-on-warning');
    expect(err.message).toContain('is not a boolean; expected true or false (or yes/no, 1/0)');
  });

  it.each([
    ['0', 0],
    ['3', 3],
  ])('min-targets-up %s', (text, value) => {
    expect(parse({ 'min-targets-up': text }).minTargetsUp).toBe(value);
  });

  it.each(['-1', '1.5', 'one', '1e3', '99999999999999999999'])('rejects min-targets-up %s', (text) => {
    const err = errorFor({ 'min-targets-up': text });
    expect(err.input).toBe('min-targets-up');
    expect(err.message).toContain('is not a whole number; expected 0, 1, 2');
  });
});

describe('lists', () => {
  it('reads allow-down-targets as globs, and refuses one with spaces, naming the form', () => {
    expect(parse({ 'allow-down-targets': 'serviceMonitor/kube-system/kube-controller-manager/*, kube-scheduler ,10.0.0.*:10257' }).allowDownTargets).toEqual([
      'serviceMonitor/kube-system/kube-controller-manager/*',
      'kube-scheduler',
      '10.0.0.*:10257',
    ]);
    const err = errorFor({ 'allow-down-targets': 'kube scheduler' });
    expect(err.input).toBe('allow-down-targets');
    expect(err.message).toContain('is not a glob on a scrape pool, job or instance');
  });

  it('splits expected-targets on commas and newlines, trimmed, without empties or repeats', () => {
    expect(parse({ 'expected-targets': ' backend-api ,\npostgres\n\nredis,redis,' }).expectedTargets).toEqual([
      'backend-api',
      'postgres',
      'redis',
    ]);
  });

  it('rejects an expected target that is not an app label value', () => {
    const err = errorFor({ 'expected-targets': 'backend-api,my app' });
    expect(err.input).toBe('expected-targets');
    expect(err.message).toContain('"my app" is not a label value');
    expect(err.message).toContain('expected a comma-separated list of values of target-label such as backend-api,postgres,redis, or none');
  });

  it('takes skip-checks in table order', () => {
    expect(parse({ 'skip-checks': 'grafana-query, cluster-access\ndatasource-mounted' }).skipChecks).toEqual([
      'cluster-access',
      'datasource-mounted',
      'grafana-query',
    ]);
  });

  it('rejects an unknown check id, naming it and listing the valid ids', () => {
    const err = errorFor({ 'skip-checks': 'grafana-query,grafana-dashboard' });
    expect(err.input).toBe('skip-checks');
    expect(err.message).toContain('unknown check id "grafana-dashboard"');
    expect(err.message).toContain(`valid ids: ${CHECK_IDS.join(', ')}`);
  });
});

describe('access and URLs', () => {
  it.each(['proxy', 'port-forward', 'direct', 'Port-Forward'])('accepts access %s', (text) => {
    const inputs: Record<string, string> = { access: text };
    if (text === 'direct') Object.assign(inputs, { 'prometheus-url': 'http://p:9090', 'grafana-url': 'http://g:3000' });
    expect(parse(inputs).access).toBe(text.toLowerCase());
  });

  it('rejects an unknown access mode', () => {
    const err = errorFor({ access: 'ingress' });
    expect(err.input).toBe('access');
    expect(err.message).toContain('"ingress" is not an access mode; expected proxy, port-forward or direct');
  });

  it('direct access takes both base URLs, without a trailing slash', () => {
    const s = parse({
      access: 'direct',
      'prometheus-url': 'http://localhost:9090/',
      'grafana-url': 'https://grafana.example.com/sub/path/',
    });
    expect(s.prometheusUrl).toBe('http://localhost:9090');
    expect(s.grafanaUrl).toBe('https://grafana.example.com/sub/path');
  });

  it('direct access requires both URLs', () => {
    const noPrometheus = errorFor({ access: 'direct', 'grafana-url': 'http://g:3000' });
    expect(noPrometheus.input).toBe('prometheus-url');
    expect(noPrometheus.message).toContain("it is required with access 'direct'; expected an http(s) base URL");
    expect(errorFor({ access: 'direct', 'prometheus-url': 'http://p:9090' }).input).toBe('grafana-url');
  });

  it('refuses URLs that access would ignore', () => {
    const err = errorFor({ 'grafana-url': 'http://g:3000' });
    expect(err.input).toBe('grafana-url');
    expect(err.message).toContain("it is only used with access 'direct' (access is 'proxy')");
  });

  it.each([
    ['prometheus:9090', /"prometheus:9090" is not an http\(s\) URL/],
    ['ftp://p/x', /is not an http\(s\) URL/],
    ['localhost', /"localhost" is not an absolute URL/],
    ['http://p:9090/?x=1', /has a query or fragment; expected a base URL/],
  ])('rejects prometheus-url %s', (text, problem) => {
    const err = errorFor({ access: 'direct', 'prometheus-url': text, 'grafana-url': 'http://g:3000' });
    expect(err.input).toBe('prometheus-url');
    expect(err.message).toMatch(problem);
  });

  it.each([
    ['grafana-url', 'https://admin:s3cr3t-pw@grafana.example.com'],
    ['grafana-url', 'https://glsa_t0ken-value@grafana.example.com'],
    ['prometheus-url', 'http://admin:s3cr3t-pw@prometheus:9090'],
    ['prometheus-url', 'http://admin:s3cr3t pw@not a host'],
    ['datasource-url', 'http://admin:s3cr3t-pw@prometheus.taskflow.svc:9090'],
  ])('rejects credentials in %s without echoing them', (input, url) => {
    const inputs: Record<string, string> = { [input]: url };
    if (input !== 'datasource-url') {
      Object.assign(inputs, { access: 'direct', 'prometheus-url': 'http://p:9090', 'grafana-url': 'http://g:3000', [input]: url });
    }
    const err = errorFor(inputs);
    expect(err.input).toBe(input);
    for (const secret of ['s3cr3t', 'glsa_t0ken', 'admin']) {
      expect(err.message).not.toContain(secret);
      expect(err.hint ?? '').not.toContain(secret);
    }
  });

  it('a credential in grafana-url points at the credential inputs', () => {
    const err = errorFor({ access: 'direct', 'prometheus-url': 'http://p:9090', 'grafana-url': 'http://a:b@g:3000' });
    expect(err.message).toContain('carries credentials');
    expect(err.hint).toContain('grafana-password');
  });
});

describe('datasource-url', () => {
  it('is empty unless given: the URL of the Prometheus Service discovery finds', () => {
    expect(parse().datasourceUrl).toBeUndefined();
  });

  it('is kept as given', () => {
    expect(parse({ 'datasource-url': 'http://prometheus:9090' }).datasourceUrl).toBe('http://prometheus:9090');
  });

  it('rejects a value that is not an http(s) URL', () => {
    const err = errorFor({ 'datasource-url': 'prometheus.taskflow.svc:9090' });
    expect(err.input).toBe('datasource-url');
    expect(err.message).toContain('expected e.g. http://host:port');
  });
});

describe('stack, grafana-credentials, target-label', () => {
  it.each(['taskflow', 'kube-prometheus', 'kube-prometheus-stack', 'generic', 'auto', 'KUBE-PROMETHEUS-STACK'])('takes stack %s', (text) => {
    expect(parse({ stack: text }).stack).toBe(text.toLowerCase());
  });

  it('rejects an unknown stack, listing the known ones', () => {
    const err = errorFor({ stack: 'prometheus-operator' });
    expect(err.input).toBe('stack');
    expect(err.message).toContain('expected auto, taskflow, kube-prometheus, kube-prometheus-stack, generic');
  });

  it.each([
    ['auto', { mode: 'auto' }],
    ['none', { mode: 'none' }],
    ['secret/kps-grafana:admin-user:admin-password', { mode: 'secret', name: 'kps-grafana', userKey: 'admin-user', passwordKey: 'admin-password' }],
  ])('takes grafana-credentials %s', (text, choice) => {
    expect(parse({ 'grafana-credentials': text }).grafanaCredentials).toEqual(choice);
  });

  it.each(['secret/kps-grafana', 'configmap/x:a:b', 'secret/x:a b:c'])('rejects grafana-credentials %s', (text) => {
    const err = errorFor({ 'grafana-credentials': text });
    expect(err.input).toBe('grafana-credentials');
    expect(err.message).toContain('expected auto, none, or secret/NAME:USERKEY:PASSWORDKEY');
  });

  it('rejects a credentials Secret name that is not a DNS-1123 subdomain', () => {
    const err = errorFor({ 'grafana-credentials': 'secret/Bad_Name:a:b' });
    expect(err.message).toContain('"Bad_Name" is not a Secret name');
  });

  it('takes a target label and rejects one that is not a label name', () => {
    expect(parse({ 'target-label': 'app.kubernetes.io/name' }).targetLabel).toBe('app.kubernetes.io/name');
    const err = errorFor({ 'target-label': 'app name' });
    expect(err.input).toBe('target-label');
    expect(err.message).toContain('expected a label name such as app');
  });
});

describe('kubeconfig', () => {
  it('takes YAML as it is', () => {
    expect(parse({ kubeconfig: KUBECONFIG }).kubeconfig).toBe(KUBECONFIG.trim());
  });

  it('decodes base64 of the YAML, also when wrapped over lines', () => {
    const b64 = Buffer.from(KUBECONFIG).toString('base64');
    expect(parse({ kubeconfig: b64 }).kubeconfig).toBe(KUBECONFIG.trim());
    const wrapped = b64.replace(/(.{76})/g, '$1\n');
    expect(parse({ kubeconfig: wrapped }).kubeconfig).toBe(KUBECONFIG.trim());
  });

  it('takes JSON, which is YAML', () => {
    const json = JSON.stringify({ apiVersion: 'v1', clusters: [] });
    expect(parse({ kubeconfig: json }).kubeconfig).toBe(json);
  });

  it.each([
    ['a file path', '/home/runner/.kube/config'],
    ['a bare word', 'c2VjcmV0'],
    ['broken YAML', 'apiVersion: v1\nclusters: [\n  token: hunter2-secret'],
    ['a YAML list', '- apiVersion: v1\n- token: hunter2-secret'],
    ['base64 of text that is not a kubeconfig', Buffer.from('token hunter2-secret').toString('base64')],
    ['base64 of broken YAML', Buffer.from('apiVersion: v1\nclusters: [hunter2-secret').toString('base64')],
  ])('rejects %s without echoing it', (_what, text) => {
    const err = errorFor({ kubeconfig: text });
    expect(err.input).toBe('kubeconfig');
    expect(err.message).toContain('is neither kubeconfig YAML');
    expect(err.message).toContain('nor base64 of it');
    expect(err.message).not.toContain(text);
    expect(err.message).not.toContain('hunter2');
  });
});

describe('prometheus-path and grafana-path', () => {
  it('never shows the password of something URL-like given as a path', () => {
    const err = errorFor({ 'prometheus-path': '//:s3cr3t-Pa55@host not a path' });
    expect(err.input).toBe('prometheus-path');
    expect(err.message).toContain('***@');
    expect(err.message).not.toContain('s3cr3t-Pa55');
  });

  it.each([
    ['/prometheus', '/prometheus'],
    ['prometheus', '/prometheus'],
    ['/prometheus/', '/prometheus'],
    ['//monitoring/prometheus//', '/monitoring/prometheus'],
    ['/a-b_c.d~e/%20x', '/a-b_c.d~e/%20x'],
  ])('normalizes %s to %s as Prometheus normalizes its route prefix', (given, expected) => {
    expect(parse({ 'prometheus-path': given }).prometheusPath).toBe(expected);
    expect(parse({ 'grafana-path': given }).grafanaPath).toBe(expected);
  });

  it('reads / as "no prefix" and leaves an empty input to discovery', () => {
    expect(parse({ 'prometheus-path': '/' }).prometheusPath).toBe('');
    expect(parse({ 'grafana-path': '///' }).grafanaPath).toBe('');
    expect(parse({}).prometheusPath).toBeUndefined();
    expect(parse({ 'grafana-path': '  ' }).grafanaPath).toBeUndefined();
  });

  it.each([
    ['a URL', 'https://example.com/grafana', /is a URL; expected a path such as \/grafana/],
    ['a query', '/grafana?x=1', /characters a URL path cannot carry/],
    ['a fragment', '/grafana#top', /characters a URL path cannot carry/],
    ['a space', '/my grafana', /characters a URL path cannot carry/],
    ['an empty segment', '/a//b', /empty segment/],
    ['a .. segment', '/grafana/../api', /"\.\." segment/],
    ['an encoded .. segment', '/grafana/%2E%2e/api', /segment/],
    ['an encoded slash', '/a%2fb', /segment/],
    ['a bad percent-encoding', '/a%zz', /characters a URL path cannot carry/],
    ['a backslash', '\\grafana', /characters a URL path cannot carry/],
  ])('refuses %s, naming the input and the expected form', (_what, value, message) => {
    const err = errorFor({ 'grafana-path': value });
    expect(err.input).toBe('grafana-path');
    expect(err.message).toMatch(message);
    expect(err.message).toContain('or / for none');
    expect(errorFor({ 'prometheus-path': value }).message).toContain("what Prometheus's --web.route-prefix is set to");
  });

  it('refuses a path longer than 255 characters', () => {
    expect(errorFor({ 'prometheus-path': `/${'a'.repeat(300)}` }).message).toContain('longer than 255 characters');
  });
});

describe('dashboards', () => {
  it('is all by default; none and all in any case', () => {
    expect(parse().dashboards).toEqual({ mode: 'all' });
    expect(parse({ dashboards: 'NONE' }).dashboards).toEqual({ mode: 'none' });
  });

  it('reads uids, tag:NAME and folder:NAME, comma- or newline-separated', () => {
    expect(parse({ dashboards: 'k8s-resources-cluster, tag:kubernetes-mixin\nfolder:Kubernetes / Compute,efOMnYBHz' }).dashboards).toEqual({
      mode: 'named',
      uids: ['k8s-resources-cluster', 'efOMnYBHz'],
      tags: ['kubernetes-mixin'],
      folders: ['Kubernetes / Compute'],
    });
  });

  it.each([
    ['all,tag:x', '"all" cannot be combined with other entries'],
    ['tag:', '"tag:" names no tag'],
    ['team:a', '"team:a" is neither a uid nor tag:NAME nor folder:NAME'],
    ['has space', '"has space" is not a dashboard uid'],
    ['a'.repeat(41), 'is not a dashboard uid (at most 40 letters'],
    [' , ', 'names no dashboard'],
  ])('refuses %j, naming the input and the expected form', (value, expected) => {
    const err = errorFor({ dashboards: value });
    expect(err.input).toBe('dashboards');
    expect(err.message).toContain(expected);
    expect(err.message).toContain('expected all, none, or a comma-separated list of dashboard uids, tag:NAME and folder:NAME');
  });
});
