/**
 * Properties of the Prometheus client's answer parsing: whatever Prometheus (or a proxy in front
 * of it) answers — any JSON value, any status, real answers from the wire reference with parts
 * replaced or removed — activeTargets, targetsOf, query and configYaml return or throw an MfcError,
 * promptly; and targetsOf, filtered by Prometheus or not, finds the targets of a job as reading
 * every target would.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { PrometheusClient } from '../../src/prometheus.js';
import { emptyVector, html502, promError, proxyNoEndpoints, SELF_TARGET, taskflowTargets, upSeries, vector } from '../fixtures/endpoints.js';
import { answers, constantEndpoint, params, settlesWithOurErrors, type Answer } from './arbitraries.js';
import { activeTarget, targetsAnswer } from '../fixtures/endpoints.js';

const KEYS = ['status', 'data', 'error', 'errorType', 'activeTargets', 'droppedTargets', 'labels', 'discoveredLabels', 'scrapePool', 'health', 'job', 'result', 'resultType', 'metric', 'value', 'values', 'yaml', 'kind', 'message'];

const REAL: readonly Answer[] = [
  taskflowTargets(),
  taskflowTargets({ redis: { health: 'down', lastError: 'connection refused' } }),
  { status: 200, text: JSON.stringify({ status: 'success', data: { activeTargets: [SELF_TARGET], droppedTargets: [] } }) },
  vector(upSeries()),
  emptyVector(),
  { status: 200, text: JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1741944662.781, '1'] } }) },
  { status: 200, text: JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { job: 'x' }, values: [[1, '1'], [2, '0']] }] } }) },
  { status: 200, text: JSON.stringify({ status: 'success', data: { yaml: 'global:\n  scrape_interval: 15s\n' } }) },
  promError('bad_data', 'invalid parameter "query": 1:1: parse error: unexpected end of input'),
  promError('timeout', 'query timed out in expression evaluation'),
  proxyNoEndpoints(),
  html502,
];

/** A real answer with its body mutated, or any JSON, with the real status or any other. */
const answer = answers(REAL, KEYS, [{}, { 'content-type': 'application/json' }, { 'content-type': 'text/html' }]);

async function exercise(a: Answer): Promise<void> {
  const client = new PrometheusClient(constantEndpoint(a));
  const targets = await settlesWithOurErrors(() => client.activeTargets());
  if (Array.isArray(targets)) {
    for (const t of targets) for (const v of [t.job, t.health, t.scrapePool, t.lastError, ...Object.values(t.labels)]) expect(typeof v).toBe('string');
  }
  const read = await settlesWithOurErrors(() => client.targetsOf('kubernetes-pods'));
  if (!(read instanceof Error)) for (const t of read.targets) for (const v of Object.values(t.labels)) expect(typeof v).toBe('string');
  const series = await settlesWithOurErrors(() => client.query('up{job="kubernetes-pods"}'));
  if (Array.isArray(series)) for (const s of series) expect(typeof s.value).toBe('string');
  const yaml = await settlesWithOurErrors(() => client.configYaml());
  if (!(yaml instanceof Error)) expect(typeof yaml).toBe('string');
}

describe('PrometheusClient on arbitrary answers', () => {
  it('reads the real answers', async () => {
    const targets = await new PrometheusClient(constantEndpoint(taskflowTargets())).activeTargets();
    expect(targets.map((t) => t.labels.app)).toEqual(['backend-api', 'postgres', 'redis']);
    expect(await new PrometheusClient(constantEndpoint(vector(upSeries()))).query('up')).toHaveLength(3);
  });

  it('returns or throws an MfcError for any answer', async () => {
    await fc.assert(
      fc.asyncProperty(answer, async (a) => {
        await exercise(a);
      }),
      params(400),
    );
  });

  it('survives values whose keys shadow Object.prototype, and answers that are not objects, in every field', async () => {
    const hostile: unknown[] = [{ toString: 1 }, { valueOf: 1, toString: 1 }, { toString: {} }, [{ toString: 1 }], null, 7, []];
    const places = ['root', 'status', 'error', 'errorType', 'resultType', 'scalar', 'value', 'values', 'yaml'];
    for (const v of hostile) {
      for (const where of places) {
        for (const status of [200, 400, 422, 503]) {
          const body =
            where === 'root'
              ? v
              : where === 'scalar'
                ? { status: 'success', data: { resultType: 'scalar', result: [1, v] } }
                : where === 'value' || where === 'values'
                  ? { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, [where]: where === 'value' ? [1, v] : [[1, v]] }] } }
                  : where === 'yaml'
                    ? { status: 'success', data: { yaml: v } }
                    : { status: 'error', errorType: 'bad_data', error: 'x', [where]: v };
          await exercise({ status, text: JSON.stringify(body) });
        }
      }
    }
  });
});

describe('targetsOf, filtered by Prometheus', () => {
  const POOLS = ['kubernetes-pods', 'serviceMonitor/monitoring/node-exporter/0', 'prometheus', 'podMonitor/apps/web/0'];
  const JOBS = ['kubernetes-pods', 'node-exporter', 'prometheus', 'web'];
  const target = fc.record({ pool: fc.constantFrom(...POOLS), job: fc.constantFrom(...JOBS), n: fc.nat(99) }).map(({ pool, job, n }) => ({
    ...activeTarget({ app: job, pod: `${job}-${n}`, ip: `10.244.1.${n}`, port: 9100, job }),
    scrapePool: pool,
    labels: { job, pod: `${job}-${n}` },
  }));

  it('reads, in one or two requests, exactly the targets a full read would give for the job (the pool, else the job label)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(target, { maxLength: 12 }), fc.constantFrom(...POOLS, ...JOBS, 'absent'), fc.boolean(), async (all, job, filters) => {
        const paths: string[] = [];
        // Prometheus 2.42 filters by scrapePool (an unknown pool: no target); an older one ignores the parameter.
        const client = new PrometheusClient(
          constantEndpoint((req) => {
            paths.push(req.path);
            const pool = new URLSearchParams(req.path.split('?')[1] ?? '').get('scrapePool');
            return targetsAnswer(filters && pool ? all.filter((t) => t.scrapePool === pool) : all);
          }),
        );
        const read = await client.targetsOf(job);
        const inPool = all.filter((t) => t.scrapePool === job);
        const expected = inPool.length ? inPool : all.filter((t) => t.labels.job === job);
        const got = read.pool ? read.targets : read.targets.filter((t) => t.scrapePool === job).length ? read.targets.filter((t) => t.scrapePool === job) : read.targets.filter((t) => t.job === job);
        expect(got.map((t) => t.labels.pod)).toEqual(expected.map((t) => t.labels.pod));
        expect(paths[0]).toBe(`/api/v1/targets?state=active&scrapePool=${encodeURIComponent(job)}`);
        // A second request only when the first answer was empty: then no pool has that name (or none has targets).
        expect(paths.length).toBe((filters ? inPool : all).length ? 1 : 2);
        if (read.pool) expect(read.pool).toBe(job);
      }),
      params(300),
    );
  });
});
