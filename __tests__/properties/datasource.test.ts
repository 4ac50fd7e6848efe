/**
 * Properties of the datasource provisioning parser and of datasource URL resolution: any
 * ConfigMap data gives one result per YAML file (never a throw), in bounded time, and URLs compare
 * as cluster DNS resolves them.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseProvisioning, sameUrl, serviceTargetOf } from '../../src/datasource.js';
import { aliasBomb, anyString, hostileString, hugeString, mutatedText, params, timed, yamlishText } from './arbitraries.js';

/** The seed guide's provisioning file, and a multi-datasource one. */
const VALID_FILES = [
  ['apiVersion: 1', 'datasources:', '  - name: Prometheus', '    type: prometheus', '    access: proxy', '    url: http://prometheus.taskflow.svc.cluster.local:9090', '    isDefault: true', '    editable: true', ''].join('\n'),
  [
    'apiVersion: 1',
    'deleteDatasources:',
    '  - name: Old',
    '    orgId: 1',
    'datasources:',
    '  - name: Loki',
    '    type: loki',
    '    url: http://loki:3100',
    '  - {name: Prometheus, type: prometheus, url: "http://prometheus:9090", isDefault: true, jsonData: {httpMethod: POST}}',
  ].join('\n'),
];

const KEYS = ['apiVersion', 'datasources', 'name', 'type', 'url', 'access', 'isDefault', 'uid', 'jsonData'];
const fileName = fc.oneof(fc.constantFrom('datasources.yaml', 'prometheus.yml', 'a.YAML', 'notes.txt', '.yaml', 'x.yaml.bak'), anyString(12));
const fileText = fc.oneof(
  { arbitrary: yamlishText(KEYS), weight: 4 },
  { arbitrary: fc.constantFrom(...VALID_FILES).chain((f) => mutatedText(f)), weight: 4 },
  { arbitrary: hostileString(80, 20), weight: 2 },
  { arbitrary: aliasBomb('datasources'), weight: 1 },
);

/** Parses, checking the shape of the result; each call must end within `ms`. */
function parse(data: Record<string, string>, ms = 2_000): ReturnType<typeof parseProvisioning> {
  const files = timed(ms, () => parseProvisioning(data));
  expect(files.map((f) => f.file)).toEqual(Object.keys(data).filter((k) => /\.ya?ml$/i.test(k)));
  for (const f of files) {
    if (f.error !== undefined) expect(typeof f.error).toBe('string');
    for (const d of f.datasources) {
      for (const field of [d.name, d.type, d.url, d.access]) expect(typeof field).toBe('string');
      expect(typeof d.isDefault).toBe('boolean');
      expect(d.file).toBe(f.file);
    }
  }
  return files;
}

describe('parseProvisioning', () => {
  it('gives one result per YAML key, for any ConfigMap data, without throwing', () => {
    fc.assert(
      fc.property(fc.dictionary(fileName, fileText, { maxKeys: 4 }), (data) => {
        parse(data);
      }),
      params(300),
    );
  });

  it('reads the valid files', () => {
    const [seed, multi] = parse({ 'datasources.yaml': VALID_FILES[0] as string, 'more.yml': VALID_FILES[1] as string });
    expect(seed?.datasources).toEqual([
      { name: 'Prometheus', type: 'prometheus', url: 'http://prometheus.taskflow.svc.cluster.local:9090', access: 'proxy', isDefault: true, editable: true, file: 'datasources.yaml' },
    ]);
    expect(multi?.datasources.map((d) => d.editable)).toEqual([false, false]);
    expect(multi?.datasources.map((d) => d.name)).toEqual(['Loki', 'Prometheus']);
    // Two defaults across the files: Grafana provisions neither.
    expect(seed?.error).toMatch(/2 datasources are marked isDefault/);
  });

  it('turns fields of any YAML type into text, and keeps a file of anchors that expand exponentially an error', () => {
    const value = fc.constantFrom('{toString: 1}', '{valueOf: 1, toString: 1}', '[1, [2]]', '!!binary aGVsbG8=', '!!set {a, b}', '!!omap [a: 1]', '2001-12-14', '~', '0o17', '.inf', '&x {a: *x}', '*missing');
    fc.assert(
      fc.property(fc.constantFrom('name', 'type', 'url', 'access', 'isDefault'), value, fc.boolean(), (field, v, yaml11) => {
        const text = `${yaml11 ? '%YAML 1.1\n---\n' : ''}datasources:\n  - {name: P, ${field}: ${v}}\n`;
        parse({ 'datasources.yaml': text });
      }),
      params(100),
    );
    fc.assert(
      fc.property(aliasBomb('datasources'), (text) => {
        parse({ 'datasources.yaml': text });
      }),
      params(30),
    );
  });

  it('answers within a second for a file of ~130 KB', () => {
    fc.assert(
      fc.property(fc.constantFrom('', 'datasources:\n  - url: http://p/', 'datasources: [', 'a: &a '), hugeString(), (head, body) => {
        parse({ 'datasources.yaml': head + body }, 3_000);
      }),
      params(20),
    );
  });
});

describe('datasource URLs', () => {
  const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$/);
  const port = fc.integer({ min: 1, max: 65535 });

  it('resolve a Service name, short or qualified, to the same Service and port from its namespace', () => {
    fc.assert(
      fc.property(label, label, port, fc.constantFrom('http', 'https'), fc.constantFrom('', '/', '/prometheus'), (svc, ns, p, scheme, path) => {
        const forms = [`${svc}`, `${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.cluster.local`].map((host) => `${scheme}://${host}:${p}${path}`);
        for (const url of forms) {
          expect(serviceTargetOf(url, ns)).toEqual({ service: svc, namespace: ns, port: p });
          for (const other of forms) expect(sameUrl(url, other, ns)).toBe(true);
        }
        expect(sameUrl(forms[0] as string, `${scheme}://${svc}:${p === 65535 ? 1 : p + 1}${path}`, ns)).toBe(false);
      }),
      params(100),
    );
  });

  it('never throw, and compare reflexively and symmetrically, for any text', () => {
    const url = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      hostileString(60, 20),
      fc.constantFrom('http://prometheus:9090', 'http://prometheus.taskflow:9090/'),
      fc.tuple(fc.constantFrom('http://p', 'http://p/', 'http:', ''), hugeString()).map(([head, body]) => head + body),
    );
    fc.assert(
      fc.property(url, url, fc.oneof(label, anyString(10)), (a, b, ns) => {
        const target = timed(1_000, () => serviceTargetOf(a, ns));
        if (target) {
          expect(Number.isInteger(target.port) && target.port >= 0 && target.port <= 65535).toBe(true);
          expect(target.service).not.toBe('');
        }
        expect(timed(1_000, () => sameUrl(a, a, ns))).toBe(true);
        expect(timed(1_000, () => sameUrl(a, b, ns))).toBe(sameUrl(b, a, ns));
      }),
      params(300),
    );
  });
});
