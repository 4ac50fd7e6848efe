/**
 * The README's minimal RBAC is exactly what the simulated cluster enforces on the action's
 * account (examples/rbac), so the end-to-end suite proves the action works under it.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

type Obj = { kind?: string; metadata?: { name?: string; namespace?: string }; rules?: unknown };

const docs = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS() as Obj).filter(Boolean);
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const readmeObjects = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((m) => docs(m[1] as string));
const rbac = (file: string) => docs(readFileSync(new URL(`../examples/rbac/${file}`, import.meta.url), 'utf8'));

const rulesOf = (objects: Obj[], kind: string, namespace?: string) => {
  const rules = objects.find((o) => o.kind === kind && o.metadata?.name === 'metrics-flow-check' && (namespace === undefined || o.metadata?.namespace === namespace))?.rules;
  return Array.isArray(rules) ? rules.map((r) => JSON.stringify(r)).sort() : undefined;
};

describe("the README's minimal RBAC", () => {
  it.each([
    ['Role', 'taskflow', 'metrics-flow-check.yaml'],
    ['ClusterRole', undefined, 'metrics-flow-check.yaml'],
    ['Role', 'monitoring', 'kube-prometheus-stack.yaml'],
  ])('%s metrics-flow-check (%s) has the rules the simulated cluster enforces (%s)', (kind, namespace, file) => {
    expect(rulesOf(readmeObjects, kind, namespace)?.length).toBeGreaterThan(0);
    expect(rulesOf(readmeObjects, kind, namespace)).toEqual(rulesOf(rbac(file), kind, namespace));
  });

  it('the other stacks differ from kube-prometheus-stack only in the one Secret they may read', () => {
    const withoutSecrets = (file: string) => rulesOf(rbac(file), 'Role')?.filter((r) => !r.includes('"secrets"'));
    for (const file of ['kube-prometheus.yaml', 'prometheus-grafana-charts.yaml']) expect(withoutSecrets(file)).toEqual(withoutSecrets('kube-prometheus-stack.yaml'));
  });

  it("grafana-operator's addition only lists the operator's objects, for the TaskFlow account", () => {
    const objects = docs(readFileSync(new URL('../examples/grafana-operator/90-rbac.yaml', import.meta.url), 'utf8'));
    expect(objects.find((o) => o.kind === 'Role')?.rules).toEqual([{ apiGroups: ['grafana.integreatly.org'], resources: ['grafanadashboards', 'grafanas', 'grafanadatasources'], verbs: ['list'] }]);
    expect(objects.find((o) => o.kind === 'RoleBinding')).toMatchObject({ subjects: [{ kind: 'ServiceAccount', name: 'metrics-flow-check', namespace: 'taskflow' }] });
  });

  it.each(readdirSync(new URL('../examples/rbac/', import.meta.url)))('%s grants no verb that changes objects, only the stream and review "create"s, and Secrets only by name', (file) => {
    const rules = rbac(file).flatMap((o) => (Array.isArray(o.rules) ? (o.rules as { resources: string[]; verbs: string[]; resourceNames?: string[] }[]) : []));
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      if (rule.resources.includes('secrets')) expect({ verbs: rule.verbs, named: (rule.resourceNames ?? []).length > 0 }).toEqual({ verbs: ['get'], named: true });
      for (const verb of rule.verbs) {
        if (verb === 'get' || verb === 'list' || verb === 'watch') continue;
        expect({ verb, resources: rule.resources }).toEqual({
          verb: 'create',
          resources: rule.resources.filter((r) => ['pods/exec', 'pods/portforward', 'services/proxy', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'subjectaccessreviews'].includes(r)),
        });
      }
    }
  });
});
