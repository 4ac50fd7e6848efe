/**
 * Properties of the Grafana client's answer parsing: whatever Grafana (or a proxy in front of it)
 * answers — any JSON value, any status, real answers from the wire reference with parts replaced
 * or removed — health, datasources, datasourceHealth and query return or throw an MfcError,
 * promptly, with every kind of authentication. And what the answers mean: only an HTTP 200 with
 * status OK is a healthy datasource, only Grafana's own 404 a missing health check; listed
 * datasources come back as listed; the login session is every cookie set and not deleted; a
 * Basic-auth request answered "Unauthorized" means basic auth is disabled, nothing else does.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { EndpointRequest } from '../../src/endpoint.js';
import { basicAuthIgnored, GrafanaClient, sessionFromSetCookie, type GrafanaAuth, type GrafanaDatasource } from '../../src/grafana.js';
import {
  dsHealthConnectionRefused,
  dsHealthOk,
  dsQueryError,
  dsQueryFrames,
  datasourcesAnswer,
  frame,
  grafanaHealthFailing,
  grafanaHealthOk,
  html502,
  invalidPassword,
  permissionDenied,
  proxyNoEndpoints,
  SEED_DATASOURCE,
  SESSION,
  unauthorized,
  upSeries,
} from '../fixtures/endpoints.js';
import { answers, constantEndpoint, params, settlesWithOurErrors, type Answer } from './arbitraries.js';

const KEYS = ['database', 'version', 'commit', 'uid', 'name', 'type', 'url', 'access', 'isDefault', 'status', 'message', 'results', 'A', 'frames', 'data', 'values', 'schema', 'fields', 'error'];

const LOGIN_OK: Answer = {
  status: 200,
  headers: { 'content-type': 'application/json', 'set-cookie': `${SESSION}; Path=/; HttpOnly` },
  text: JSON.stringify({ message: 'Logged in', redirectUrl: '/' }),
};

const REAL: readonly Answer[] = [
  grafanaHealthOk,
  grafanaHealthFailing,
  datasourcesAnswer([SEED_DATASOURCE]),
  dsHealthOk,
  dsHealthConnectionRefused,
  dsQueryFrames(upSeries().map((labels) => frame(labels))),
  dsQueryError('bad_data: 1:1: parse error: unexpected end of input'),
  unauthorized,
  invalidPassword,
  permissionDenied,
  LOGIN_OK,
  proxyNoEndpoints('grafana'),
  html502,
];

/** A real answer with its body mutated, or any JSON, with the real status or any other. */
const answer = answers(REAL, KEYS, [{}, { 'set-cookie': `${SESSION}; Path=/` }, { 'set-cookie': 'x=1, grafana_session=' }]);

const auth: fc.Arbitrary<GrafanaAuth> = fc.constantFrom<GrafanaAuth>(
  { kind: 'none' },
  { kind: 'basic', user: 'admin', password: 'admin2024' },
  { kind: 'token', token: 'glsa_0123456789abcdef' },
  { kind: 'session', user: 'admin', password: 'admin2024' },
);

const DS: GrafanaDatasource = { uid: SEED_DATASOURCE.uid, name: 'Prometheus', type: 'prometheus', url: SEED_DATASOURCE.url, access: 'proxy', isDefault: true };

/** `POST /login` gets `login` (for session auth), every other request `api`. */
async function exercise(a: GrafanaAuth, api: Answer, login: Answer): Promise<void> {
  const endpoint = constantEndpoint((req: EndpointRequest) => (req.path === '/login' ? login : api));
  const client = new GrafanaClient(endpoint, a);
  const health = await settlesWithOurErrors(() => client.health());
  if (!(health instanceof Error)) expect([typeof health.database, typeof health.version]).toEqual(['string', 'string']);
  const list = await settlesWithOurErrors(() => client.datasources());
  if (Array.isArray(list)) for (const d of list) expect([d.uid, d.name, d.type, d.url, d.access].every((v) => typeof v === 'string')).toBe(true);
  const dsHealth = await settlesWithOurErrors(() => client.datasourceHealth(DS.uid));
  if (!(dsHealth instanceof Error)) {
    expect([typeof dsHealth.ok, typeof dsHealth.status, typeof dsHealth.message]).toEqual(['boolean', 'string', 'string']);
    // Healthy only on HTTP 200 with status OK; a missing health check only on a 404.
    if (dsHealth.ok) expect([dsHealth.httpStatus, dsHealth.status]).toEqual([200, 'OK']);
    if (api.status !== 200) expect(dsHealth.ok).toBe(false);
    if (dsHealth.unsupported) expect([dsHealth.ok, dsHealth.httpStatus, api.status]).toEqual([false, 404, 404]);
  }
  const result = await settlesWithOurErrors(() => client.query(DS, 'up'));
  if (!(result instanceof Error)) {
    expect(Number.isInteger(result.series) && result.series >= 0).toBe(true);
    if (result.error !== undefined) expect(typeof result.error).toBe('string');
  }
}

describe('GrafanaClient on arbitrary answers', () => {
  it('reads the real answers', async () => {
    const client = new GrafanaClient(constantEndpoint(dsQueryFrames(upSeries().map((labels) => frame(labels)))), { kind: 'none' });
    expect((await client.query(DS, 'up')).series).toBe(3);
    expect(await new GrafanaClient(constantEndpoint(grafanaHealthOk), { kind: 'none' }).health()).toEqual({ database: 'ok', version: '11.5.0' });
  });

  it('returns or throws an MfcError for any answer, with any authentication', async () => {
    await fc.assert(
      fc.asyncProperty(auth, answer, fc.oneof(fc.constant(LOGIN_OK), answer), async (a, api, login) => {
        await exercise(a, api, login);
      }),
      params(300),
    );
  });

  it('survives values whose keys shadow Object.prototype, and answers that are not objects, in every field', async () => {
    const hostile: unknown[] = [{ toString: 1 }, { valueOf: 1, toString: 1 }, [{ toString: 1 }], null, 7, 'text', []];
    const places = ['root', 'database', 'version', 'message', 'status', 'results', 'A', 'frames', 'error'];
    const auths: GrafanaAuth[] = [{ kind: 'none' }, { kind: 'session', user: 'admin', password: 'pw' }];
    for (const a of auths) {
      for (const v of hostile) {
        for (const where of places) {
          for (const status of [200, 400, 401, 403, 503]) {
            const body =
              where === 'root'
                ? v
                : where === 'A'
                  ? { results: { A: v } }
                  : where === 'frames' || where === 'error'
                    ? { results: { A: { [where]: v } } }
                    : { database: 'ok', version: '11.5.0', status: 'OK', message: 'm', [where]: v };
            await exercise(a, { status, text: JSON.stringify(body) }, LOGIN_OK);
          }
        }
      }
    }
  });
});

const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,16}$/);
const datasource = fc.record({
  uid: fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/),
  name: fc.string({ maxLength: 30 }),
  type: fc.constantFrom('prometheus', 'loki', 'tempo', 'influxdb', 'grafana-postgresql-datasource'),
  url: fc.webUrl(),
  access: fc.constantFrom('proxy', 'direct'),
  isDefault: fc.boolean(),
});

describe('what Grafana answers means', () => {
  it('round-trips any datasource list, whatever other fields Grafana adds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(datasource, { maxLength: 8 }), fc.dictionary(fc.constantFrom('id', 'orgId', 'jsonData', 'readOnly', 'typeName', 'basicAuth'), fc.jsonValue()), async (list, extra) => {
        const client = new GrafanaClient(constantEndpoint(datasourcesAnswer(list.map((d) => ({ ...extra, ...d })))), { kind: 'token', token: 'glsa_x' });
        // readOnly is read as Grafana means it: true only when it says true.
        expect(await client.datasources()).toEqual(list.map((d) => ({ ...d, readOnly: extra.readOnly === true })));
      }),
      params(100),
    );
  });

  it('calls a datasource healthy only for HTTP 200 with status OK, whatever the body says otherwise', async () => {
    const statuses = fc.constantFrom(200, 400, 404, 500, 502, 503, 207);
    const body = fc.record({ status: fc.constantFrom('OK', 'ERROR', 'UNKNOWN', 'ok', ''), message: fc.string({ maxLength: 40 }) }, { requiredKeys: [] });
    await fc.assert(
      fc.asyncProperty(statuses, body, async (status, b) => {
        const client = new GrafanaClient(constantEndpoint({ status, text: JSON.stringify(b) }), { kind: 'token', token: 'glsa_x' });
        const health = await settlesWithOurErrors(() => client.datasourceHealth(DS.uid));
        const healthy = status === 200 && (b.status === 'OK' || b.status === undefined || b.status === '');
        if (health instanceof Error) {
          expect([200, 400].includes(status)).toBe(false);
        } else {
          expect(health.ok).toBe(healthy);
          if (status === 400) expect([health.ok, health.httpStatus, health.message]).toEqual([false, 400, b.message ?? '']);
        }
      }),
      params(200),
    );
  });

  it("takes a 404 for a missing health check only when it is Grafana's own answer saying so", async () => {
    const notImplemented = [{ message: 'Not found', traceID: '' }, { message: 'Method not implemented', messageId: 'plugin.notImplemented', statusCode: 404, traceID: '' }];
    const others = [{ message: 'Data source not found' }, { kind: 'Status', message: 'Not found', code: 404 }, '404 page not found\n', { message: 'Plugin not found' }];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...notImplemented, ...others), async (body) => {
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        const client = new GrafanaClient(constantEndpoint({ status: 404, text }), { kind: 'token', token: 'glsa_x' });
        const health = await settlesWithOurErrors(() => client.datasourceHealth(DS.uid));
        if (notImplemented.includes(body as never)) expect(health).toMatchObject({ ok: false, unsupported: true, httpStatus: 404 });
        else expect(health).toBeInstanceOf(Error);
      }),
      params(40),
    );
  });

  it('keeps every cookie a login answer sets and does not delete, and finds the session among them', async () => {
    const cookie = fc.record({ name: token, value: token, httpOnly: fc.boolean(), deleted: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(cookie, { maxLength: 5, selector: (c) => c.name }), token, fc.boolean(), fc.constantFrom('grafana_session', 'gf_sess'), async (others, value, named, sessionName) => {
        const all = [
          ...others.filter((c) => !c.name.endsWith('_expiry') && c.name !== sessionName && c.name !== 'grafana_session'),
          { name: sessionName, value, httpOnly: true, deleted: false },
          { name: 'grafana_session_expiry', value: '1744536662', httpOnly: false, deleted: false },
        ];
        const header = all
          .map((c) => `${c.name}=${c.deleted ? '' : c.value}; Path=/; ${c.deleted ? 'Max-Age=0' : 'Max-Age=2592000'}${c.httpOnly ? '; HttpOnly' : ''}; SameSite=Lax`)
          .join(', ');
        const kept = new Map(all.filter((c) => !c.deleted).map((c) => [c.name, c.value]));
        const session = sessionFromSetCookie(header, named ? sessionName : undefined);
        const httpOnlyCandidates = all.filter((c) => !c.deleted && c.httpOnly && !c.name.endsWith('_expiry'));
        if (!named && sessionName !== 'grafana_session' && httpOnlyCandidates.length !== 1) {
          expect(session).toBeUndefined();
          return;
        }
        expect(session?.name).toBe(sessionName);
        expect(session?.cookie).toBe([...kept].map(([n, v]) => `${n}=${v}`).join('; '));
      }),
      params(300),
    );
  });

  it('says basic auth was ignored only for a Basic-auth 401 answered as to no credentials', () => {
    fc.assert(
      fc.property(auth, fc.constantFrom(401, 403, 400, 500), fc.constantFrom('Unauthorized', 'Invalid username or password', 'Invalid API key', ''), fc.constantFrom('', 'auth.unauthorized', 'password-auth.failed', 'api-key.invalid'), (a, status, message, messageId) => {
        const expected = a.kind === 'basic' && status === 401 && (messageId === 'auth.unauthorized' || (messageId === '' && message === 'Unauthorized'));
        expect(basicAuthIgnored(a, status, message, messageId)).toBe(expected);
      }),
      params(300),
    );
  });

  it('counts the frames that hold values as the series of a query', async () => {
    const frameWith = fc.boolean().map((full) => (full ? frame({ __name__: 'up', job: 'x' }) : { schema: { fields: [] }, data: { values: [] } }));
    await fc.assert(
      fc.asyncProperty(fc.array(frameWith, { maxLength: 6 }), async (frames) => {
        const client = new GrafanaClient(constantEndpoint(dsQueryFrames(frames)), { kind: 'token', token: 'glsa_x' });
        const result = await client.query(DS, 'up');
        expect(result).toEqual({ series: frames.filter((f) => (f.data as { values: unknown[] }).values.length > 0).length, httpStatus: 200 });
      }),
      params(100),
    );
  });
});
