/**
 * The per-attempt view: the first attempt starts from what discovery read (a pod list whose
 * selector holds every pod the check asks for, a namespace's Services), filtered as the API
 * server filters; anything else, and every retry, is read from the cluster.
 */
import { describe, expect, it } from '@jest/globals';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { Cluster } from '../src/cluster.js';
import type { GrafanaClient } from '../src/grafana.js';
import type { PrometheusClient } from '../src/prometheus.js';
import { ClusterView, covers } from '../src/view.js';

const pod = (name: string, labels: Record<string, string>): V1Pod => ({ metadata: { name, namespace: 'taskflow', labels } });
const PODS = [pod('prometheus-0', { app: 'prometheus' }), pod('grafana-0', { app: 'grafana', tier: 'ui' })];
const SERVICES: V1Service[] = [{ metadata: { name: 'prometheus', namespace: 'taskflow' } }];

/** A cluster that records what it is asked and answers empty lists. */
function recording(): { cluster: Cluster; asked: string[] } {
  const asked: string[] = [];
  const cluster = {
    listPods: async (ns: string, sel: string) => (asked.push(`pods ${ns} ${sel}`), []),
    readService: async (ns: string, name: string) => (asked.push(`service ${ns}/${name}`), undefined),
  } as unknown as Cluster;
  return { cluster, asked };
}

function view(cluster: Cluster, seeded: boolean): ClusterView {
  const seed = seeded ? { pods: [{ namespace: 'taskflow', selector: 'app in (grafana,prometheus)', pods: PODS }], services: [{ namespace: 'taskflow', services: SERVICES }] } : undefined;
  return new ClusterView(cluster, {} as PrometheusClient, {} as GrafanaClient, undefined, seed);
}

describe('the first attempt starts from discovery’s reads', () => {
  it('answers a narrower selector from the wider list, filtered as the API server filters', async () => {
    const { cluster, asked } = recording();
    const v = view(cluster, true);
    expect((await v.pods('taskflow', 'app=grafana')).map((p) => p.metadata?.name)).toEqual(['grafana-0']);
    expect((await v.pods('taskflow', 'app=grafana,tier=db')).map((p) => p.metadata?.name)).toEqual([]);
    expect(await v.service('taskflow', 'prometheus')).toBe(SERVICES[0]);
    expect(await v.service('taskflow', 'absent')).toBeUndefined();
    expect(asked).toEqual([]);
  });

  it('asks the cluster for what the lists cannot hold: another key, another namespace, another value', async () => {
    const { cluster, asked } = recording();
    const v = view(cluster, true);
    await v.pods('taskflow', 'app.kubernetes.io/name=grafana');
    await v.pods('other', 'app=grafana');
    await v.pods('taskflow', 'app=loki');
    await v.service('other', 'prometheus');
    expect(asked).toEqual(['pods taskflow app.kubernetes.io/name=grafana', 'pods other app=grafana', 'pods taskflow app=loki', 'service other/prometheus']);
  });

  it('reads afresh in a view without discovery’s reads (a retry)', async () => {
    const { cluster, asked } = recording();
    await view(cluster, false).pods('taskflow', 'app=grafana');
    expect(asked).toEqual(['pods taskflow app=grafana']);
  });
});

describe('covers', () => {
  it.each([
    ['app in (grafana,prometheus)', 'app=grafana', true],
    ['app in (grafana,prometheus)', 'app==prometheus,release=x', true],
    ['app in (grafana,prometheus)', 'app in (grafana)', true],
    ['app in (grafana,prometheus)', 'app in (grafana,loki)', false],
    ['app in (grafana,prometheus)', 'app!=grafana', false],
    ['app in (grafana,prometheus)', 'tier=ui', false],
    ['app=grafana', 'app=grafana', true],
  ])('%s holds every object of %s: %s', (wide, narrow, expected) => {
    expect(covers(wide, narrow)).toBe(expected);
  });
});
