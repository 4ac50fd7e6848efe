/**
 * The dashboards grafana-operator should have written into this Grafana and did not: which
 * GrafanaDashboard objects are meant for it (the Grafana object that stands for it), and the
 * reason read from their status conditions.
 */
import { describe, expect, it } from '@jest/globals';
import type { V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import { KubeError, type CustomObject } from '../../src/cluster.js';
import { missingProvisioned } from '../../src/dashboards/provisioned.js';
import type { DashboardHit } from '../../src/grafana.js';
import type { ClusterView } from '../../src/view.js';

const NS = 'monitoring';
const POD = { metadata: { name: 'grafana-0', namespace: NS }, spec: { containers: [{ name: 'grafana' }] } } as V1Pod;
const PLACE = { namespace: NS, service: 'grafana', owner: 'Deployment grafana' };

type Lists = { grafanadashboards?: CustomObject[] | number | string; grafanas?: CustomObject[] | number | string; configMaps?: V1ConfigMap[] };

/** A view whose custom lists answer these objects, or fail with that HTTP status. */
function viewOf(lists: Lists): ClusterView {
  return {
    custom: async (type: { plural: string }) => {
      const answer = lists[type.plural as 'grafanas' | 'grafanadashboards'];
      if (answer === undefined) throw new KubeError('404 page not found', 404, 'NotFound');
      if (typeof answer === 'number') throw new KubeError(`${type.plural}.grafana.integreatly.org is forbidden`, answer, 'Forbidden');
      if (typeof answer === 'string') throw new Error(answer);
      return answer;
    },
    configMaps: async () => lists.configMaps ?? [],
  } as unknown as ClusterView;
}

const grafanaObject = (name: string, labels: Record<string, string>, url: string, ready = true): CustomObject => ({
  kind: 'Grafana',
  metadata: { name, namespace: NS, labels },
  spec: { external: { url } },
  status: ready ? { stage: 'complete', stageStatus: 'success' } : { stage: 'complete', stageStatus: 'failed', lastMessage: 'failed to authenticate with instance' },
});

const dashboardObject = (name: string, selector: Record<string, string>, model: Record<string, unknown> | undefined, conditions?: Record<string, string>[]): CustomObject => ({
  kind: 'GrafanaDashboard',
  metadata: { name, namespace: NS, uid: `uid-of-${name}` },
  spec: { instanceSelector: { matchLabels: selector }, ...(model ? { json: JSON.stringify(model) } : {}) },
  ...(conditions ? { status: { conditions } } : {}),
});

const hit = (uid: string, title: string): DashboardHit => ({ uid, title }) as DashboardHit;

describe('GrafanaDashboard objects not in Grafana', () => {
  it('asks nothing more when the cluster has no grafana-operator CRDs, and says so when the list is forbidden', async () => {
    await expect(missingProvisioned(viewOf({}), POD, undefined, [], PLACE)).resolves.toEqual({ missing: [], notes: [] });
    await expect(missingProvisioned(viewOf({ grafanadashboards: 403 }), POD, undefined, [], PLACE)).resolves.toEqual({
      missing: [],
      notes: ['GrafanaDashboard objects (grafana.integreatly.org) in monitoring could not be listed: list grafanadashboards is forbidden'],
    });
    // Any other failure is a note too: the dashboards Grafana has are still checked.
    const grafanas = [grafanaObject('main', { dashboards: 'main' }, 'http://grafana:3000')];
    await expect(missingProvisioned(viewOf({ grafanadashboards: 'the API server did not answer within 5 s', grafanas }), POD, undefined, [], PLACE)).resolves.toEqual({
      missing: [],
      notes: ['GrafanaDashboard objects (grafana.integreatly.org) in monitoring could not be listed: the API server did not answer within 5 s'],
    });
  });

  it("takes only the objects meant for this Grafana (the Grafana object whose URL names its Service), each with the operator's reason", async () => {
    const grafanas = [grafanaObject('main', { dashboards: 'main' }, 'http://grafana.monitoring.svc:3000'), grafanaObject('other', { dashboards: 'other' }, 'http://grafana-other:3000')];
    const dashboards = [
      dashboardObject('synced', { dashboards: 'main' }, { uid: 'synced', title: 'Synced' }, [{ type: 'DashboardSynchronized', status: 'True', reason: 'ApplySuccessful' }]),
      dashboardObject('deleted', { dashboards: 'main' }, { uid: 'deleted', title: 'Deleted' }, [{ type: 'DashboardSynchronized', status: 'True', reason: 'ApplySuccessful' }]),
      dashboardObject('refused', { dashboards: 'main' }, { uid: 'refused', title: 'Refused' }, [
        { type: 'DashboardSynchronized', status: 'False', reason: 'ApplyFailed', message: 'Dashboard failed to be applied for 1 out of 1 instances.' },
      ]),
      dashboardObject('new', { dashboards: 'main' }, { title: 'New' }),
      dashboardObject('suspended', { dashboards: 'main' }, { uid: 'suspended', title: 'Suspended' }, [{ type: 'Suspended', status: 'True', reason: 'ApplySuspended' }]),
      dashboardObject('for-other', { dashboards: 'other' }, { uid: 'for-other', title: 'For other' }),
    ];
    const { missing, notes } = await missingProvisioned(viewOf({ grafanadashboards: dashboards, grafanas }), POD, undefined, [hit('synced', 'Synced')], PLACE);
    expect(notes).toEqual([]);
    expect(missing.map((d) => [d.uid, d.title, d.source, d.cause])).toEqual([
      [
        'deleted',
        'Deleted',
        'GrafanaDashboard monitoring/deleted',
        'grafana-operator applied it (DashboardSynchronized True) but Grafana no longer has it: deleted in Grafana? the operator puts it back at its next resync (spec.resyncPeriod, 10m by default)',
      ],
      ['refused', 'Refused', 'GrafanaDashboard monitoring/refused', 'grafana-operator could not apply it (DashboardSynchronized False, ApplyFailed): Dashboard failed to be applied for 1 out of 1 instances.'],
      // No uid in its JSON: the operator gives it the object's.
      ['uid-of-new', 'New', 'GrafanaDashboard monitoring/new', 'its status has no condition: grafana-operator has not reconciled it (is the operator running, and does it watch this namespace?)'],
      ['suspended', 'Suspended', 'GrafanaDashboard monitoring/suspended', 'its spec.suspend is true: grafana-operator ignores it'],
    ]);
    expect(missing.every((d) => d.provisioner === 'grafana-operator')).toBe(true);
  });

  it('names a selector that matches no Grafana object, and a Grafana object that is not ready', async () => {
    const grafanas = [grafanaObject('main', { dashboards: 'main' }, 'http://grafana:3000', false)];
    const dashboards = [
      dashboardObject('typo', { dashboard: 'main' }, { uid: 'typo', title: 'Typo' }),
      dashboardObject('waiting', { dashboards: 'main' }, { uid: 'waiting', title: 'Waiting' }, [{ type: 'NoMatchingInstance', status: 'True', reason: 'EmptyAPIReply' }]),
    ];
    const { missing } = await missingProvisioned(viewOf({ grafanadashboards: dashboards, grafanas }), POD, undefined, [], PLACE);
    expect(missing.map((d) => d.cause)).toEqual([
      "its instanceSelector dashboard=main matches no ready Grafana object (NoMatchingInstance); there is Grafana monitoring/main (labels dashboards=main, not ready: stage complete failed (failed to authenticate with instance)): make the selector match the Grafana object's labels",
      "its instanceSelector matches no ready Grafana object (NoMatchingInstance); there is Grafana monitoring/main (labels dashboards=main, not ready: stage complete failed (failed to authenticate with instance)): make the selector match the Grafana object's labels",
    ]);
  });

  it("reads a configMapRef model for its uid, and compares nothing when no Grafana object stands for this Grafana", async () => {
    const grafanas = [grafanaObject('main', { dashboards: 'main' }, 'http://grafana:3000')];
    const fromConfigMap: CustomObject = { kind: 'GrafanaDashboard', metadata: { name: 'nodes', namespace: NS, uid: 'x' }, spec: { instanceSelector: { matchLabels: { dashboards: 'main' } }, configMapRef: { name: 'dashboards', key: 'nodes.json' } } };
    const configMaps = [{ metadata: { name: 'dashboards', namespace: NS }, data: { 'nodes.json': JSON.stringify({ uid: 'nodes', title: 'Nodes' }) } }] as V1ConfigMap[];
    const read = await missingProvisioned(viewOf({ grafanadashboards: [fromConfigMap], grafanas, configMaps }), POD, undefined, [hit('nodes', 'Nodes')], PLACE);
    expect(read).toEqual({ missing: [], notes: [] });

    const elsewhere = [grafanaObject('a', { dashboards: 'a' }, 'http://grafana-a:3000'), grafanaObject('b', { dashboards: 'b' }, 'http://grafana-b:3000')];
    await expect(missingProvisioned(viewOf({ grafanadashboards: [fromConfigMap], grafanas: elsewhere, configMaps }), POD, undefined, [], PLACE)).resolves.toEqual({
      missing: [],
      notes: ['GrafanaDashboard objects in monitoring not compared: none of the Grafana objects a, b points at this Grafana'],
    });
  });
});
