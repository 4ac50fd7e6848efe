/**
 * The synthetic Prometheus (large-scale scenarios) compresses the answers of its API as
 * Prometheus's CompressionHandler does (util/httputil/compression.go), which a real Prometheus 2.42
 * shows: `Content-Encoding: gzip` on /api/v1/targets, /api/v1/query (errors too) and
 * /api/v1/status/config for `Accept-Encoding: gzip`; the first of gzip and deflate listed wins;
 * `/-/ready` and a path no route serves are sent as they are.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { gunzipSync, inflateSync } from 'node:zlib';
import { podTargets, startSyntheticPrometheus, type SyntheticPrometheus } from '../../sim/prometheus/synthetic.js';

describe('synthetic Prometheus: compressed answers', () => {
  let prom: SyntheticPrometheus;
  beforeAll(async () => {
    const targets = podTargets({ count: 50, job: 'kubernetes-pods', namespace: 'taskflow', apps: ['backend-api'] });
    prom = await startSyntheticPrometheus({ host: '127.0.0.1', port: 0, targets, configYaml: 'global: {}\n' });
  });
  afterAll(async () => {
    await prom?.stop();
  });

  const get = async (path: string, acceptEncoding?: string) => {
    const res = await request(`${prom.url}${path}`, { headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {} });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, encoding: res.headers['content-encoding'], length: res.headers['content-length'], body };
  };

  it('gzips an API answer for a client that asks, and sends the same document', async () => {
    const plain = await get('/api/v1/targets?state=active');
    const zipped = await get('/api/v1/targets?state=active', 'gzip');
    expect(plain.encoding).toBeUndefined();
    expect(zipped.encoding).toBe('gzip');
    // Large: sent without Content-Length, as Go's server streams it.
    expect(zipped.length).toBeUndefined();
    expect(zipped.body.length).toBeLessThan(plain.body.length / 5);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    const query = await get('/api/v1/query?query=up', 'gzip');
    expect(query.encoding).toBe('gzip');
    expect(JSON.parse(gunzipSync(query.body).toString())).toMatchObject({ status: 'success', data: { resultType: 'vector' } });
  });

  it('takes the first of gzip and deflate listed, exactly, and leaves the rest alone', async () => {
    const deflated = await get('/api/v1/status/config', 'br, deflate, gzip');
    expect(deflated.encoding).toBe('deflate');
    expect(JSON.parse(inflateSync(deflated.body).toString())).toMatchObject({ status: 'success', data: { yaml: 'global: {}\n' } });
    expect((await get('/api/v1/status/config', 'gzip;q=1.0')).encoding).toBeUndefined();
    expect((await get('/api/v1/status/config', 'br')).encoding).toBeUndefined();
    const ready = await get('/-/ready', 'gzip');
    expect(ready.encoding).toBeUndefined();
    expect(ready.body.toString()).toBe('Prometheus Server is Ready.\n');
    const missing = await get('/nope', 'gzip');
    expect(missing).toMatchObject({ status: 404, encoding: undefined });
  });
});
