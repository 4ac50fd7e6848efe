/**
 * The README's minimal RBAC is exactly what the simulated cluster enforces on the action's
 * account (examples/rbac), so the end-to-end suite proves the action works under it.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

type Obj = { kind?: string; metadata?: { name?: string }; rules?: unknown };

const docs = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS() as Obj).filter(Boolean);
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const readmeObjects = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((m) => docs(m[1] as string));
const enforced = docs(readFileSync(new URL('../examples/rbac/metrics-flow-check.yaml', import.meta.url), 'utf8'));

describe("the README's minimal RBAC", () => {
  it.each(['Role', 'ClusterRole'])('%s metrics-flow-check has the rules the simulated cluster enforces', (kind) => {
    const rulesOf = (objects: Obj[]) => {
      const rules = objects.find((o) => o.kind === kind && o.metadata?.name === 'metrics-flow-check')?.rules;
      return Array.isArray(rules) ? rules.map((r) => JSON.stringify(r)).sort() : undefined;
    };
    expect(rulesOf(readmeObjects)?.length).toBeGreaterThan(0);
    expect(rulesOf(readmeObjects)).toEqual(rulesOf(enforced));
  });

  it('grants no verb that changes objects, only the stream and review "create"s', () => {
    const rules = enforced.flatMap((o) => (Array.isArray(o.rules) ? (o.rules as { resources: string[]; verbs: string[] }[]) : []));
    for (const rule of rules) {
      for (const verb of rule.verbs) {
        if (verb === 'get' || verb === 'list' || verb === 'watch') continue;
        expect({ verb, resources: rule.resources }).toEqual({
          verb: 'create',
          resources: rule.resources.filter((r) => ['pods/exec', 'pods/portforward', 'services/proxy', 'selfsubjectaccessreviews', 'subjectaccessreviews'].includes(r)),
        });
      }
    }
  });
});
