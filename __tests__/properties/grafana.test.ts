/**
 * Properties of the Grafana client's answer parsing: whatever Grafana (or a proxy in front of it)
 * answers — any JSON value, any status, real answers from the wire reference with parts replaced
 * or removed — health, datasources, datasourceHealth and query return or throw an MfcError,
 * promptly, with every kind of authentication.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { EndpointRequest } from '../../src/endpoint.js';
import { GrafanaClient, type GrafanaAuth, type GrafanaDatasource } from '../../src/grafana.js';
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
  if (!(dsHealth instanceof Error)) expect([typeof dsHealth.ok, typeof dsHealth.status, typeof dsHealth.message]).toEqual(['boolean', 'string', 'string']);
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
