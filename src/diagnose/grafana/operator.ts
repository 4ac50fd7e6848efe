/**
 * grafana-operator's `GrafanaDatasource` objects (grafana.integreatly.org/v1beta1): the operator
 * writes them into Grafana through its API and reports how that went in their status conditions
 * (controllers/datasource_controller.go, controller_shared.go): `DatasourceSynchronized` False
 * with reason ApplyFailed, or `NoMatchingInstance`, `InvalidSpec`, `Suspended` True. A failing
 * condition of the object that defines the datasource is the finding, quoted.
 */
import { KubeError, type CustomObject } from '../../cluster.js';
import { GRAFANA_DATASOURCE_CR } from '../../stack/types.js';
import type { Finding, ObjectRef } from '../types.js';
import type { Probe } from './probe.js';
import { clip, refText } from './text.js';

export { GRAFANA_DATASOURCE_CR };

interface Condition {
  readonly type?: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
}

/** Conditions that say the datasource is not in Grafana. */
const FAILING_WHEN_TRUE = new Set(['NoMatchingInstance', 'InvalidSpec', 'Suspended', 'NoMatchingFolder']);

function failing(c: Condition): boolean {
  return (c.type === 'DatasourceSynchronized' && c.status === 'False') || (FAILING_WHEN_TRUE.has(c.type ?? '') && c.status === 'True');
}

function datasourceOf(o: CustomObject): { name?: string; type?: string } {
  const ds = o.spec?.datasource;
  return ds && typeof ds === 'object' ? (ds as { name?: string; type?: string }) : {};
}

function conditionsOf(o: CustomObject): Condition[] {
  const list = o.status?.conditions;
  return Array.isArray(list) ? (list as Condition[]) : [];
}

function finding(o: CustomObject, c: Condition): Finding {
  const ref: ObjectRef = { kind: 'GrafanaDatasource', namespace: o.metadata?.namespace, name: o.metadata?.name ?? '' };
  const ds = datasourceOf(o).name;
  const said = `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${clip(c.message, 300)}` : ''}`;
  const cause = `${refText(ref)}${ds ? ` (datasource "${ds}")` : ''} is not applied to Grafana: condition ${said}`;
  switch (c.type) {
    case 'NoMatchingInstance':
      return {
        cause,
        fix: 'Its spec.instanceSelector matches no Grafana object: give the Grafana object the selector\'s labels or fix the selector (a Grafana in another namespace also needs spec.allowCrossNamespaceImport: true).',
        target: { object: ref, path: ['spec', 'instanceSelector'] },
      };
    case 'InvalidSpec':
      return { cause, fix: 'Fix spec.datasource as the condition says; the operator applies it again.', target: { object: ref, path: ['spec', 'datasource'] } };
    case 'Suspended':
      return { cause, fix: 'spec.suspend is true: set it to false so the operator applies it.', target: { object: ref, path: ['spec', 'suspend'] } };
    default:
      return {
        cause,
        fix: "Fix what Grafana answered the operator (the condition's message; the grafana-operator's log has the rest); the operator retries every resyncPeriod.",
        target: { object: ref, path: ['spec', 'datasource'] },
      };
  }
}

/**
 * The failing condition of the GrafanaDatasource that defines the datasource, as a finding.
 * `expected`: the route says the operator delivers it (a refused read is then a note). True when a
 * finding was added.
 */
export async function operatorProbe(p: Probe, expected: boolean): Promise<boolean> {
  let list: CustomObject[];
  try {
    list = await p.view.custom(GRAFANA_DATASOURCE_CR, undefined);
  } catch (err) {
    if (!(err instanceof KubeError)) throw err;
    if (err.status === 403) {
      try {
        list = await p.view.custom(GRAFANA_DATASOURCE_CR, p.ns);
      } catch (inner) {
        if (!(inner instanceof KubeError)) throw inner;
        if (expected || inner.status !== 404) p.note(`GrafanaDatasource objects not read: ${inner.status === 403 ? 'list grafanadatasources.grafana.integreatly.org is forbidden' : inner.message}`);
        return false;
      }
    } else {
      if (expected && err.status !== 404) p.note(`GrafanaDatasource objects not read: ${err.message}`);
      return false;
    }
  }
  const wanted = p.wanted;
  const mine = list.filter((o) => (wanted ? datasourceOf(o).name === wanted : datasourceOf(o).type === 'prometheus'));
  for (const o of mine) {
    const c = conditionsOf(o).find(failing);
    if (c) {
      p.add(finding(o, c));
      return true;
    }
    if (o.status?.NoMatchingInstances === true) {
      p.add(finding(o, { type: 'NoMatchingInstance', status: 'True', message: 'instanceSelector found no matching Grafana instances' }));
      return true;
    }
  }
  return false;
}
