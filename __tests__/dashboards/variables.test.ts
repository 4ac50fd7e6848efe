import { describe, expect, it } from '@jest/globals';
import { Datasources } from '../../src/dashboards/datasources.js';
import { dashboardRange } from '../../src/dashboards/time.js';
import { customOptions, resolveVariables, type MetricFinder } from '../../src/dashboards/variables.js';
import type { GrafanaDatasource } from '../../src/grafana.js';

const ds = (uid: string, name: string, isDefault = false, type = 'prometheus'): GrafanaDatasource => ({ uid, name, type, url: `http://${uid}:9090`, access: 'proxy', isDefault });
const PROM = ds('prometheus', 'Prometheus', true);
const OTHER = ds('thanos', 'A-Thanos');
const LOKI = ds('loki', 'Loki', false, 'loki');
const NOW = Date.parse('2026-01-01T12:00:00Z');

/** Answers label values per `label match`, and records what was asked. */
function finder(values: Record<string, string[]>): MetricFinder & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async labelValues(d, label, match, range) {
      asked.push(`${d.uid} ${label} ${match ?? ''} ${range.fromMs}`);
      return values[`${label} ${match ?? ''}`.trim()] ?? [];
    },
    async series() {
      return [];
    },
    async queryResult() {
      return ['up{job="a"} 1 1700000000000', 'up{job="b"} 1 1700000000000'];
    },
  };
}

const range = dashboardRange({ from: 'now-1h', to: 'now' }, NOW);

describe('resolveVariables', () => {
  it("writes $__from and $__to as the frontend does: the dashboard's range in ms, or with the date format", async () => {
    const vars = await resolveVariables({ templating: { list: [] } }, new Datasources([PROM]), finder({}), range);
    const from = NOW - 3_600_000;
    expect(vars.interpolate('x @ $__to')).toBe(`x @ ${NOW}`);
    expect(vars.interpolate('${__from} ${__from:date} ${__to:date:iso} ${__to:date:seconds} [[__from]]')).toBe(`${from} 2026-01-01T11:00:00.000Z 2026-01-01T12:00:00.000Z ${NOW / 1000} ${from}`);
    // A moment.js pattern, in UTC; literal text in brackets. A variable of that name the dashboard defines wins.
    expect(vars.interpolate('${__from:date:YYYY-MM-DD HH:mm:ss.SSS}')).toBe('2026-01-01 11:00:00.000');
    expect(vars.interpolate('${__to:date:dddd, MMMM Do YYYY, h A [at] X}')).toBe(`Thursday, January 1st 2026, 12 PM at ${NOW / 1000}`);
    const own = await resolveVariables({ templating: { list: [{ name: '__to', type: 'constant', query: 'mine' }] } }, new Datasources([PROM]), finder({}), range);
    expect(own.interpolate('$__to')).toBe('mine');
  });

  it('resolves a datasource variable to its current value, default to the default datasource, and a missing current to the first by name', async () => {
    const all = new Datasources([PROM, OTHER, LOKI]);
    const current = await resolveVariables({ templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', current: { text: 'default', value: 'default' } }] } }, all, finder({}), range);
    expect(current.get('datasource')?.datasource?.uid).toBe('prometheus');
    const none = await resolveVariables({ templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus' }] } }, all, finder({}), range);
    // Grafana picks the first Prometheus datasource by name: "A-Thanos" (helm-charts#5003).
    expect(none.get('datasource')?.datasource?.uid).toBe('thanos');
    expect(none.datasource({ type: 'prometheus', uid: '${datasource}' })).toEqual({ kind: 'ds', ds: OTHER });
    expect(none.datasource('$datasource')).toEqual({ kind: 'ds', ds: OTHER });
    expect(none.datasource(null)).toEqual({ kind: 'ds', ds: PROM });
    expect(none.datasource({ type: 'prometheus', uid: 'P1809F7CD0C75ACF3' })).toEqual({ kind: 'missing', ref: 'P1809F7CD0C75ACF3' });
    expect(none.datasource('${DS_PROMETHEUS}')).toEqual({ kind: 'missing', ref: '${DS_PROMETHEUS}' });
    expect(none.datasource('Prometheus')).toEqual({ kind: 'ds', ds: PROM });
    expect(none.datasource({ uid: '-- Mixed --' })).toEqual({ kind: 'mixed' });
  });

  it('runs label_values through the variable\'s datasource with earlier variables interpolated, and formats All as a regex', async () => {
    const f = finder({ 'cluster up': ['prod', 'stage'], 'namespace kube_pod_info{cluster="prod"}': ['a.b', 'c'] });
    const vars = await resolveVariables(
      {
        templating: {
          list: [
            { name: 'datasource', type: 'datasource', query: 'prometheus', current: { value: 'prometheus' } },
            { name: 'namespace', type: 'query', datasource: '${datasource}', query: { query: 'label_values(kube_pod_info{cluster="$cluster"}, namespace)', refId: 'X' }, includeAll: true, multi: true, current: { value: ['$__all'] } },
            { name: 'cluster', type: 'query', datasource: { uid: '$datasource' }, query: 'label_values(up, cluster)', current: { value: 'prod' } },
          ],
        },
      },
      new Datasources([PROM, OTHER]),
      f,
      range,
    );
    // cluster first: namespace's query uses it.
    expect(f.asked).toEqual([`prometheus cluster up ${range.fromMs}`, `prometheus namespace kube_pod_info{cluster="prod"} ${range.fromMs}`]);
    expect(vars.interpolate('sum(x{cluster="$cluster", namespace=~"$namespace"})')).toBe('sum(x{cluster="prod", namespace=~"(a\\\\.b|c)"})');
    expect(vars.interpolate('[[namespace:pipe]] ${cluster:raw} $__rate_interval $unknown')).toBe('a.b|c prod $__rate_interval $unknown');
  });

  it('uses a custom allValue as written, keeps saved multi values still offered, and falls back to the first option', async () => {
    const vars = await resolveVariables(
      {
        templating: {
          list: [
            { name: 'job', type: 'custom', query: 'api : backend-api, db : postgres,redis', includeAll: true, allValue: '.+', current: { value: '$__all' } },
            { name: 'pod', type: 'custom', query: 'a,b,c', multi: true, current: { value: ['b', 'gone', 'c'] } },
            { name: 'env', type: 'custom', query: 'x,y', current: { value: 'gone' } },
            { name: 'c', type: 'constant', query: 'k8s' },
            { name: 'q', type: 'textbox', query: 'dflt', current: { value: 'typed' } },
            { name: 'iv', type: 'interval', query: 'auto,1m,10m', current: { value: 'auto' } },
          ],
        },
      },
      new Datasources([PROM]),
      finder({}),
      range,
    );
    expect(vars.interpolate('$job|$pod|$env|$c|$q|$iv')).toBe('.+|(b|c)|x|k8s|typed|2m');
    expect(customOptions('a\\,b : v, c')).toEqual([{ text: 'a,b', value: 'v' }, { text: 'c', value: 'c' }]);
  });

  it('leaves a query variable without values unresolved, saying why, and the variables using it too', async () => {
    const vars = await resolveVariables(
      {
        templating: {
          list: [
            { name: 'cluster', type: 'query', datasource: null, query: 'label_values(kube_node_info, cluster)', current: { value: 'prod' } },
            { name: 'node', type: 'query', datasource: null, query: 'label_values(kube_node_info{cluster="$cluster"}, node)' },
            { name: 'q', type: 'query', datasource: null, query: 'query_result(up)', regex: '/job="(?<value>[^"]+)"/' },
          ],
        },
      },
      new Datasources([PROM]),
      finder({}),
      range,
    );
    expect(vars.get('cluster')?.error).toBe('$cluster has no value: label_values(kube_node_info, cluster) returned none');
    expect(vars.get('node')?.error).toBe('$node has no value: its query uses $cluster, which has none');
    expect(vars.unresolvedIn('x{cluster="$cluster"}').map((v) => v.name)).toEqual(['cluster']);
    expect(vars.interpolate('$q')).toBe('a');
  });
});
