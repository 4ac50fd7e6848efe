import { describe, expect, it } from '@jest/globals';
import { matches, selectorsOf, unquote, withBuiltIns } from '../../src/dashboards/promql.js';

describe('selectorsOf', () => {
  it('reads every metric name and its matchers from the syntax tree', () => {
    const { selectors, errorAt } = selectorsOf(
      'sum(rate(container_cpu_usage_seconds_total{cluster="$cluster", job=~"kubelet|cadvisor"}[$__rate_interval])) by (pod) / on() group_left kube_pod_info{namespace!="x"}',
    );
    expect(errorAt).toBeUndefined();
    expect(selectors.map((s) => s.metric)).toEqual(['container_cpu_usage_seconds_total', 'kube_pod_info']);
    expect(selectors[0]?.matchers).toEqual([
      { name: 'cluster', op: '=', value: '$cluster' },
      { name: 'job', op: '=~', value: 'kubelet|cadvisor' },
    ]);
    expect(selectors[1]?.matchers).toEqual([{ name: 'namespace', op: '!=', value: 'x' }]);
  });

  it('takes the name from __name__ and from a quoted name alone, never from label names or strings', () => {
    const { selectors } = selectorsOf('{__name__="up", job="a"} + {"my.metric", a!~"x"} + label_replace(foo, "dst", "$1", "src", "(.*)")');
    expect(selectors.map((s) => s.metric)).toEqual(['up', 'my.metric', 'foo']);
    expect(selectors[0]?.matchers).toEqual([{ name: 'job', op: '=', value: 'a' }]);
  });

  it('unescapes the matchers\' string literals as PromQL does', () => {
    const { selectors } = selectorsOf('up{job=~"a\\\\.b", q=\'it\\\'s\', r=`raw\\n`}');
    expect(selectors[0]?.matchers.map((m) => m.value)).toEqual(['a\\.b', "it's", 'raw\\n']);
  });

  it("parses once Grafana's backend variables stand in for durations and numbers", () => {
    expect(withBuiltIns('rate(x[$__rate_interval]) / $__range_s * ${__interval_ms}')).toBe('rate(x[1m]) / 3600 * 60000');
    expect(selectorsOf('increase(x[$__range])').errorAt).toBeUndefined();
    expect(selectorsOf('sum(').errorAt).toBeDefined();
  });
});

describe('matches', () => {
  it('anchors regexes as Prometheus does', () => {
    expect(matches({ name: 'job', op: '=~', value: 'node' }, 'node-exporter')).toBe(false);
    expect(matches({ name: 'job', op: '=~', value: 'node.*' }, 'node-exporter')).toBe(true);
    expect(matches({ name: 'job', op: '!~', value: 'node.*' }, 'node-exporter')).toBe(false);
    expect(matches({ name: 'job', op: '!=', value: 'a' }, 'b')).toBe(true);
  });

  it('unquote keeps raw strings raw', () => {
    expect(unquote('`a\\b`')).toBe('a\\b');
    expect(unquote('"\\x41\\u00e9"')).toBe('Aé');
  });
});
