import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ObjectPath } from '../src/diagnose/types.js';
import { MAX_FILE_BYTES, loadManifests, splitPatterns, type ManifestIndex } from '../src/manifests.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = path.join(ROOT, '__tests__', 'fixtures', 'manifests');

/**
 * The 1-based line of the first line of `file` (relative to `dir`) containing `text`, searching
 * from the first line containing each of `after` in turn.
 */
function lineOf(dir: string, file: string, text: string, ...after: string[]): number {
  const lines = readFileSync(path.join(dir, file), 'utf8').split(/\r?\n/);
  let from = 0;
  for (const anchor of [...after, text]) {
    const i = lines.findIndex((line, n) => n >= from && line.includes(anchor));
    if (i === -1) throw new Error(`"${anchor}" not found in ${file}`);
    from = i;
  }
  return from + 1;
}

describe('the TaskFlow example manifests', () => {
  const DIR = path.join(ROOT, 'examples', 'taskflow');
  const DS = 'examples/taskflow/20-grafana-datasource.yaml';
  const DEPLOY = 'examples/taskflow/20-grafana-deployment.yaml';
  const RBAC = 'examples/taskflow/16-prometheus-rbac.yaml';
  const line = (file: string, text: string, ...after: string[]) => lineOf(ROOT, file, text, ...after);
  let index: ManifestIndex;
  const container = ['spec', 'template', 'spec', 'containers', 0];

  beforeAll(async () => {
    index = await loadManifests('examples/taskflow/*.yaml', ROOT);
  });

  it('reads every file, without notes', () => {
    expect(index.notes).toEqual([]);
    expect(index.files).toContain(DS);
    expect(index.files.length).toBe(readdirSync(DIR).filter((f) => f.endsWith('.yaml')).length);
    expect(index.objectCount).toBeGreaterThanOrEqual(15);
  });

  it("finds the datasource url inside the ConfigMap's datasources.yaml", () => {
    const target: ObjectPath = {
      object: { kind: 'ConfigMap', namespace: 'taskflow', name: 'grafana-datasources' },
      path: ['data', 'datasources.yaml'],
      embedded: ['datasources', 0, 'url'],
    };
    expect(index.locate(target)).toEqual({ file: DS, line: line(DS, 'url: http://prometheus') });
  });

  it('stops at the deepest existing key inside the embedded document', () => {
    const target: ObjectPath = {
      object: { kind: 'ConfigMap', namespace: 'taskflow', name: 'grafana-datasources' },
      path: ['data', 'datasources.yaml'],
      embedded: ['datasources', 0, 'jsonData', 'httpMethod'],
    };
    expect(index.locate(target)).toEqual({ file: DS, line: line(DS, '- name: Prometheus') });
    // Without `embedded`: the data key itself.
    expect(index.locate({ ...target, embedded: undefined })).toEqual({ file: DS, line: line(DS, 'datasources.yaml: |') });
  });

  it("finds the Grafana container's volumeMounts and its first mount", () => {
    const grafana = { kind: 'Deployment', namespace: 'taskflow', name: 'grafana' };
    expect(index.locate({ object: grafana, path: [...container, 'volumeMounts'] })).toEqual({
      file: DEPLOY,
      line: line(DEPLOY, 'volumeMounts:'),
    });
    expect(index.locate({ object: grafana, path: [...container, 'volumeMounts', 0, 'mountPath'] })).toEqual({
      file: DEPLOY,
      line: line(DEPLOY, 'mountPath: /etc/grafana/provisioning/datasources'),
    });
    expect(index.locate({ object: grafana, path: ['spec', 'template', 'spec', 'volumes', 3] })).toEqual({
      file: DEPLOY,
      line: line(DEPLOY, '- name: storage', 'volumes:'),
    });
  });

  it('points at the container when what is missing must be added to it', () => {
    const grafana = { kind: 'Deployment', namespace: 'taskflow', name: 'grafana' };
    expect(index.locate({ object: grafana, path: [...container, 'envFrom', 0] })).toEqual({
      file: DEPLOY,
      line: line(DEPLOY, '- name: grafana', 'containers:'),
    });
    // An index past the end: the sequence's key.
    expect(index.locate({ object: grafana, path: ['spec', 'template', 'spec', 'containers', 3] })).toEqual({
      file: DEPLOY,
      line: line(DEPLOY, 'containers:'),
    });
  });

  it('without a path, points at metadata.name', () => {
    expect(index.locate({ object: { kind: 'Deployment', namespace: 'taskflow', name: 'grafana' } })).toEqual({
      file: DEPLOY,
      line: line(DEPLOY, 'name: grafana', 'kind: Deployment'),
    });
    expect(index.locate({ object: { kind: 'Service', namespace: 'taskflow', name: 'grafana' } })).toEqual({
      file: DEPLOY,
      line: line(DEPLOY, 'name: grafana', 'kind: Service'),
    });
  });

  it("finds the ClusterRoleBinding's subjects, matched by kind and name", () => {
    const crb = { kind: 'ClusterRoleBinding', name: 'prometheus' };
    expect(index.locate({ object: crb, path: ['subjects'] })).toEqual({ file: RBAC, line: line(RBAC, 'subjects:') });
    expect(index.locate({ object: crb, path: ['subjects', 0, 'namespace'] })).toEqual({
      file: RBAC,
      line: line(RBAC, 'namespace: taskflow', 'subjects:'),
    });
    expect(index.locate({ object: { kind: 'ClusterRole', name: 'prometheus' }, path: ['rules', 0, 'verbs'] })).toEqual({
      file: RBAC,
      line: line(RBAC, 'verbs:'),
    });
  });

  it('returns undefined for objects not in the manifests', () => {
    expect(index.locate({ object: { kind: 'ConfigMap', namespace: 'taskflow', name: 'nope' } })).toBeUndefined();
    expect(index.locate({ object: { kind: 'Deployment', namespace: 'other', name: 'grafana' } })).toBeUndefined();
    expect(index.locate({ object: { kind: 'deployment', namespace: 'taskflow', name: 'grafana' } })).toBeUndefined();
    expect(index.locate({ object: { kind: 'ClusterRoleBinding', name: 'grafana' }, path: ['subjects'] })).toBeUndefined();
  });
});

describe('the fixture manifests', () => {
  const BASE = 'k8s/base/grafana.yaml';
  const PROD = 'k8s/overlays/prod/datasources.yml';
  const RBAC = 'other/rbac.yaml';
  const line = (file: string, text: string, ...after: string[]) => lineOf(FIXTURES, file, text, ...after);

  it('expands ** and comma-separated patterns, reading only YAML files, in pattern order', async () => {
    const index = await loadManifests('other/*, k8s/**/*.yaml', FIXTURES);
    expect(index.files).toEqual([RBAC, BASE]);
    expect(index.notes).toEqual([]);
  });

  it('splits on newlines too, keeping {a,b} alternatives whole', async () => {
    expect(splitPatterns('k8s/**/*.{yaml,yml}\n  other/*.yaml ,\r\n\n# a comment\n')).toEqual([
      'k8s/**/*.{yaml,yml}',
      'other/*.yaml',
    ]);
    const index = await loadManifests('k8s/**/*.{yaml,yml}\nother/*.yaml', FIXTURES);
    expect(index.files).toEqual([BASE, PROD, RBAC]);
  });

  it('reads a directory given as a pattern, and excludes !patterns', async () => {
    expect((await loadManifests('other', FIXTURES)).files).toEqual([RBAC]);
    expect((await loadManifests('k8s/**, other/, !k8s/base/*', FIXTURES)).files).toEqual([PROD, RBAC]);
  });

  it('notes a pattern that matches no YAML file, and reads the others', async () => {
    const index = await loadManifests('nothing/**/*.yaml, other/*.txt, other/*.yaml', FIXTURES);
    expect(index.files).toEqual([RBAC]);
    expect(index.notes).toEqual([
      'manifests: "nothing/**/*.yaml" matches no .yaml or .yml file.',
      'manifests: "other/*.txt" matches no .yaml or .yml file.',
    ]);
  });

  it('matches a manifest without metadata.namespace in any namespace', async () => {
    const index = await loadManifests('k8s/base/*.yaml', FIXTURES);
    expect(index.objectCount).toBe(2); // the Deployment and the Service; the other documents are no objects
    for (const namespace of ['taskflow', 'monitoring', undefined]) {
      expect(index.locate({ object: { kind: 'Service', namespace, name: 'grafana' }, path: ['spec', 'ports', 0, 'port'] })).toEqual({
        file: BASE,
        line: line(BASE, 'port: 3000', 'kind: Service'),
      });
    }
  });

  it("points at a sequence item's dash, even alone on its line", async () => {
    const index = await loadManifests(BASE, FIXTURES);
    const grafana = { kind: 'Deployment', namespace: 'taskflow', name: 'grafana' };
    const containers = ['spec', 'template', 'spec', 'containers'];
    expect(index.locate({ object: grafana, path: [...containers, 0, 'volumeMounts'] })).toEqual({
      file: BASE,
      line: line(BASE, '- name: sidecar'),
    });
    expect(index.locate({ object: grafana, path: [...containers, 1, 'volumeMounts'] })).toEqual({
      file: BASE,
      line: line(BASE, '-', '- name: sidecar', 'image: busybox'),
    });
    expect(index.locate({ object: grafana, path: [...containers, 1, 'ports', 0, 'containerPort'] })).toEqual({
      file: BASE,
      line: line(BASE, 'ports: [{'),
    });
  });

  it('follows aliases to their anchor', async () => {
    const index = await loadManifests(BASE, FIXTURES);
    const grafana = { kind: 'Deployment', name: 'grafana' };
    expect(index.locate({ object: grafana, path: ['spec', 'selector', 'matchLabels', 'app'] })).toEqual({
      file: BASE,
      line: line(BASE, 'app: grafana'),
    });
  });

  it('indexes the items of a List', async () => {
    const index = await loadManifests(RBAC, FIXTURES);
    expect(index.objectCount).toBe(2);
    expect(index.locate({ object: { kind: 'ClusterRoleBinding', name: 'prometheus' }, path: ['subjects'] })).toEqual({
      file: RBAC,
      line: line(RBAC, 'subjects:'),
    });
    expect(index.locate({ object: { kind: 'ClusterRole', name: 'prometheus' } })).toEqual({
      file: RBAC,
      line: line(RBAC, 'name: prometheus', 'kind: ClusterRole'),
    });
    expect(index.locate({ object: { kind: 'List', name: 'prometheus' } })).toBeUndefined();
  });

  describe('embedded YAML', () => {
    let index: ManifestIndex;
    const cm = { kind: 'ConfigMap', namespace: 'prod', name: 'grafana-datasources' };
    const at = (key: string, embedded: (string | number)[]) => index.locate({ object: cm, path: ['data', key], embedded });

    beforeAll(async () => {
      index = await loadManifests(PROD, FIXTURES);
    });

    it('in a |- block with blank lines', () => {
      expect(at('datasources.yaml', ['datasources', 1, 'url'])).toEqual({ file: PROD, line: line(PROD, 'url: http://prometheus.prod') });
      expect(at('datasources.yaml', ['datasources', 1])).toEqual({ file: PROD, line: line(PROD, '- name: Prometheus') });
      expect(at('datasources.yaml', ['datasources', 5])).toEqual({ file: PROD, line: line(PROD, '    datasources:') });
    });

    it('in a single-line quoted string', () => {
      expect(at('inline.yaml', ['datasources', 0, 'url'])).toEqual({ file: PROD, line: line(PROD, 'inline.yaml:') });
    });

    it('in a folded > block', () => {
      expect(at('folded.yaml', ['datasources', 0, 'url'])).toEqual({ file: PROD, line: line(PROD, 'url: http://folded') });
    });

    it('written as JSON', () => {
      expect(at('json.json', ['datasources', 0, 'url'])).toEqual({ file: PROD, line: line(PROD, '"url": "http://json') });
    });

    it('falls back to the data key when the string is not YAML or the key is missing', () => {
      expect(at('notyaml.txt', ['datasources', 0, 'url'])).toEqual({ file: PROD, line: line(PROD, 'notyaml.txt:') });
      expect(at('missing.yaml', ['datasources'])).toEqual({ file: PROD, line: line(PROD, 'data:', 'namespace: prod') });
    });
  });

  it('prefers the exact namespace, keeps the first of duplicates, and notes them', async () => {
    const index = await loadManifests(PROD, FIXTURES);
    const name = 'grafana-datasources';
    expect(index.objectCount).toBe(2);
    expect(index.locate({ object: { kind: 'ConfigMap', namespace: 'staging', name } })).toEqual({
      file: PROD,
      line: line(PROD, 'name: grafana-datasources', 'another namespace'),
    });
    const first = line(PROD, 'name: grafana-datasources');
    const second = line(PROD, 'name: grafana-datasources', 'a second time');
    expect(index.locate({ object: { kind: 'ConfigMap', namespace: 'prod', name } })).toEqual({ file: PROD, line: first });
    expect(index.locate({ object: { kind: 'ConfigMap', namespace: 'dev', name } })).toBeUndefined();
    expect(index.notes).toEqual([
      `manifests: ConfigMap prod/${name} is defined more than once (${PROD}:${first} and ${PROD}:${second}); the first is used.`,
    ]);
  });

  it('notes a file that is not valid YAML and indexes the others', async () => {
    const index = await loadManifests('broken/*.yaml', FIXTURES);
    expect(index.files).toEqual(['broken/good.yaml', 'broken/invalid.yaml']);
    expect(index.notes).toHaveLength(1);
    expect(index.notes[0]).toMatch(/^manifests: broken\/invalid\.yaml line \d+ is not valid YAML \(.+\); skipped\.$/);
    expect(index.locate({ object: { kind: 'ConfigMap', name: 'broken' } })).toBeUndefined();
    expect(index.locate({ object: { kind: 'Secret', namespace: 'monitoring', name: 'grafana-admin' }, path: ['stringData'] })).toEqual({
      file: 'broken/good.yaml',
      line: 6,
    });
  });
});

describe('files on disk', () => {
  let dir: string;
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  };
  const CM = [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: grafana-datasources',
    'data:',
    '  datasources.yaml: |',
    '    datasources:',
    '    - name: Prometheus',
    '      url: http://prometheus:9090',
    '',
  ];

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mfc-manifests-'));
    write('repo/k8s/crlf.yaml', ['# Windows line endings', '---', ...CM].join('\r\n'));
    write('repo/node_modules/pkg/cm.yaml', CM.join('\n'));
    write('repo/.git/cm.yaml', CM.join('\n'));
    write('repo/k8s/vendor/node_modules/cm.yaml', CM.join('\n'));
    write('outside.yaml', CM.join('\n').replace('grafana-datasources', 'outside'));
    write('repo/big.yaml', `# ${'x'.repeat(MAX_FILE_BYTES)}\n`);
    write('repo/empty.yaml', '');
    write('repo/bom.yaml', `\uFEFF${CM.join('\n')}`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads Windows line endings', async () => {
    const index = await loadManifests('k8s/*.yaml', path.join(dir, 'repo'));
    const target: ObjectPath = {
      object: { kind: 'ConfigMap', namespace: 'x', name: 'grafana-datasources' },
      path: ['data', 'datasources.yaml'],
      embedded: ['datasources', 0, 'url'],
    };
    expect(index.locate(target)).toEqual({ file: 'k8s/crlf.yaml', line: 11 });
    expect(index.locate({ ...target, embedded: undefined, path: ['data'] })).toEqual({ file: 'k8s/crlf.yaml', line: 7 });
  });

  it('skips node_modules and .git under the pattern, files too large, and reads empty files and BOMs', async () => {
    const index = await loadManifests('**/*.yaml', path.join(dir, 'repo'));
    expect(index.files).toEqual(['bom.yaml', 'empty.yaml', 'k8s/crlf.yaml']);
    expect(index.notes).toEqual([
      'manifests: big.yaml is larger than 5 MB; skipped.',
      'manifests: ConfigMap grafana-datasources is defined more than once (bom.yaml:4 and k8s/crlf.yaml:6); the first is used.',
    ]);
    expect(index.locate({ object: { kind: 'ConfigMap', name: 'grafana-datasources' }, path: ['data'] })).toEqual({ file: 'bom.yaml', line: 5 });
  });

  it('reads node_modules when the pattern names it', async () => {
    const index = await loadManifests('node_modules/pkg/*.yaml', path.join(dir, 'repo'));
    expect(index.files).toEqual(['node_modules/pkg/cm.yaml']);
  });

  it('accepts absolute patterns, and gives absolute paths for files outside the base directory', async () => {
    const outside = path.join(dir, 'outside.yaml');
    const index = await loadManifests(`${outside}\n../outside.yaml\n${path.join(dir, 'repo', 'k8s')}/*.yaml`, path.join(dir, 'repo'));
    expect(index.files).toEqual([outside, 'k8s/crlf.yaml']);
    expect(index.locate({ object: { kind: 'ConfigMap', name: 'outside' } })).toEqual({ file: outside, line: 4 });
  });

  it('never throws on odd input', async () => {
    const index = await loadManifests(' , \n[unclosed, {a,b', path.join(dir, 'missing'));
    expect(index.files).toEqual([]);
    expect(index.objectCount).toBe(0);
    expect(index.locate({ object: { kind: 'ConfigMap', name: 'x' }, path: ['data', 0, 'y'], embedded: ['z'] })).toBeUndefined();
  });
});
