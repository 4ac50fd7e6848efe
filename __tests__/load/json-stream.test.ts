/**
 * Prometheus answers read as they arrive: a targets answer far beyond the 20 MiB limit of an
 * answer is read, keeping of each UP target only the labels the checks read; an answer cut short,
 * malformed or of the wrong shape is refused with the same message as when it was read whole;
 * JsonStream gives what JSON.parse gives, wherever the chunks are cut.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { urlEndpoint } from '../../src/endpoint.js';
import { JsonStream, JsonStreamError } from '../../src/json-stream.js';
import { MAX_KEPT_BYTES, PrometheusClient } from '../../src/prometheus.js';
import { podTargets } from '../../sim/prometheus/synthetic.js';

/**
 * A server answering every request with `body` (sent in 64 KiB chunks), as they are given or
 * with a Content-Encoding (the body is then sent as it is: compress it first).
 */
async function serve(
  body: Buffer | string,
  status = 200,
  type = 'application/json',
  encoding?: string,
): Promise<{ url: string; sent: () => number; acceptEncoding: () => string | undefined; close: () => Promise<void> }> {
  const buf = Buffer.from(body);
  let sent = 0;
  let acceptEncoding: string | undefined;
  const server: Server = createServer((req, res) => {
    acceptEncoding = req.headers['accept-encoding'];
    res.writeHead(status, { 'content-type': type, 'content-length': buf.length, ...(encoding ? { 'content-encoding': encoding } : {}) });
    let at = 0;
    const next = (): void => {
      while (at < buf.length) {
        const chunk = buf.subarray(at, at + 65536);
        at += chunk.length;
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', next);
      }
      res.end();
    };
    res.on('close', () => (at = buf.length));
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, sent: () => sent, acceptEncoding: () => acceptEncoding, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const answer = (targets: unknown[]): string => JSON.stringify({ status: 'success', data: { activeTargets: targets, droppedTargets: [] } });

describe('reading /api/v1/targets as it arrives', () => {
  it('reads a 40 MiB answer of 11,000 real-sized targets, keeping of an UP target only the labels read of it', async () => {
    const targets = podTargets({ count: 11_000, job: 'kubernetes-pods', namespace: 'taskflow', apps: ['backend-api', 'postgres', 'redis'] });
    const down = { ...targets[5], health: 'down', lastError: 'connection refused' };
    const body = answer([...targets.slice(0, 5), down, ...targets.slice(6)]);
    expect(body.length).toBeGreaterThan(20 * 1048576 * 1.8);
    const server = await serve(body);
    try {
      const started = Date.now();
      const read = await new PrometheusClient(urlEndpoint(server.url, 30_000)).targetsOf('kubernetes-pods');
      process.stdout.write(`${(body.length / 1048576).toFixed(1)} MiB answer read in ${Date.now() - started} ms\n`);
      expect(read.pool).toBe('kubernetes-pods');
      expect(read.targets).toHaveLength(11_000);
      const [first] = read.targets;
      expect(first?.labels).toEqual(targets[0]?.labels);
      expect(first?.health).toBe('up');
      // What the checks and diagnosis read is kept…
      expect(first?.discoveredLabels).toMatchObject({ __meta_kubernetes_pod_label_app: 'backend-api', __meta_kubernetes_namespace: 'taskflow', __address__: first?.labels.instance });
      expect(first?.discoveredLabels.__meta_kubernetes_pod_name).toBe(first?.labels.pod);
      // …the rest of an UP target's discovered labels is not.
      expect(Object.keys(targets[0]?.discoveredLabels ?? {}).length).toBeGreaterThan(45);
      expect(first?.discoveredLabels).not.toHaveProperty('__meta_kubernetes_pod_annotation_checksum_config');
      expect(first?.discoveredLabels).not.toHaveProperty('__meta_kubernetes_pod_container_id');
      // A DOWN target keeps them all, for the diagnosis.
      expect(read.targets[5]?.discoveredLabels).toEqual(down.discoveredLabels);
      expect(read.targets[5]?.lastError).toBe('connection refused');
    } finally {
      await server.close();
    }
  }, 60_000);

  it('refuses an answer that is cut short, malformed or not JSON as before', async () => {
    const whole = answer(podTargets({ count: 3, job: 'kubernetes-pods', namespace: 'taskflow', apps: ['backend-api'] }));
    for (const [body, expected] of [
      [whole.slice(0, Math.floor(whole.length / 2)), /^Prometheus GET \/api\/v1\/targets answered HTTP 200 with text "\{"status":"success","data":\{"activeTargets":\[\{"discoveredLabels".*…" instead of JSON$/],
      [whole.replace('"labels":{', '"labels":{,'), /answered HTTP 200 with text "\{"status".*" instead of JSON$/],
      ['Prometheus Server is Healthy.\n', /^Prometheus GET \/api\/v1\/targets answered HTTP 200 with text "Prometheus Server is Healthy\." instead of JSON$/],
      ['<html><head><title>502 Bad Gateway</title></head></html>', /answered HTTP 200 with an HTML page \("502 Bad Gateway"\) instead of JSON$/],
      ['', /answered HTTP 200 with an empty body instead of JSON$/],
    ] as const) {
      const server = await serve(body);
      try {
        await expect(new PrometheusClient(urlEndpoint(server.url, 10_000)).activeTargets()).rejects.toThrow(expected);
      } finally {
        await server.close();
      }
    }
  });

  it('refuses a wrong-shaped answer as before', async () => {
    for (const [body, expected] of [
      [JSON.stringify({ status: 'success', data: { activeTargets: 'none' } }), 'Prometheus GET /api/v1/targets: the answer has no activeTargets list'],
      [JSON.stringify({ status: 'success', data: [] }), 'Prometheus GET /api/v1/targets: the answer has no activeTargets list'],
      [JSON.stringify([1, 2]), 'Prometheus GET /api/v1/targets: status "undefined"'],
      [JSON.stringify({ status: 'error', error: 'bad', data: { activeTargets: [] } }), 'Prometheus GET /api/v1/targets: status "error": bad'],
    ] as const) {
      const server = await serve(body);
      try {
        await expect(new PrometheusClient(urlEndpoint(server.url, 10_000)).activeTargets()).rejects.toThrow(expected);
      } finally {
        await server.close();
      }
    }
  });

  it('stops reading at 20 MiB outside the target list, and keeps at most MAX_KEPT_BYTES of targets', async () => {
    const filler = `{"filler":"${'x'.repeat(60 * 1048576)}","status":"success","data":{"activeTargets":[]}}`;
    const server = await serve(filler);
    try {
      await expect(new PrometheusClient(urlEndpoint(server.url, 10_000)).activeTargets()).rejects.toThrow(/the answer is larger than 20 MiB; refusing to read it/);
      // Not read to the end: what the server got to send is 20 MiB and what the sockets' buffers hold.
      expect(server.sent()).toBeLessThan(32 * 1048576);
    } finally {
      await server.close();
    }
    const label = 'v'.repeat(1024 * 1024);
    const big = answer(Array.from({ length: Math.ceil(MAX_KEPT_BYTES / label.length) + 1 }, (_, i) => ({ labels: { job: 'j', instance: String(i), big: label }, health: 'up' })));
    const heavy = await serve(big);
    try {
      await expect(new PrometheusClient(urlEndpoint(heavy.url, 60_000)).activeTargets()).rejects.toThrow(/the active targets hold more than 128 MiB of labels; refusing to keep more/);
    } finally {
      await heavy.close();
    }
  }, 60_000);
});

describe('compressed answers', () => {
  const targets = podTargets({ count: 2_000, job: 'kubernetes-pods', namespace: 'taskflow', apps: ['backend-api', 'postgres', 'redis'] });
  const body = answer(targets);

  it('asks for gzip, and reads a gzip or deflate answer as the plain one', async () => {
    for (const [encoding, compressed] of [
      ['gzip', gzipSync(body)],
      ['deflate', deflateSync(body)],
    ] as const) {
      const server = await serve(compressed, 200, 'application/json', encoding);
      try {
        const read = await new PrometheusClient(urlEndpoint(server.url, 30_000)).targetsOf('kubernetes-pods');
        expect(server.acceptEncoding()).toBe('gzip');
        expect(read.pool).toBe('kubernetes-pods');
        expect(read.targets).toHaveLength(2_000);
        expect(read.targets[1_999]?.labels).toEqual(targets[1_999]?.labels);
      } finally {
        await server.close();
      }
    }
  }, 30_000);

  it('holds the decompressed bytes to the limits, and names a corrupt, cut or unknown encoding', async () => {
    // 60 MiB outside the list, compressed to a few tens of KiB: refused at 20 MiB decompressed.
    const bomb = gzipSync(`{"filler":"${'x'.repeat(60 * 1048576)}","status":"success","data":{"activeTargets":[]}}`);
    expect(bomb.length).toBeLessThan(1048576);
    const gz = gzipSync(body);
    for (const [sent, encoding, status, expected] of [
      [bomb, 'gzip', 200, /^Prometheus GET \/api\/v1\/targets: the answer is larger than 20 MiB; refusing to read it/],
      [gzipSync('x'.repeat(30 * 1048576)), 'gzip', 500, /^Prometheus GET \/api\/v1\/targets: the answer is larger than 20 MiB; refusing to read it$/],
      [Buffer.concat([gz.subarray(0, 10), Buffer.from('not gzip at all'), gz.subarray(25)]), 'gzip', 200, /^Prometheus GET \/api\/v1\/targets: the compressed answer is corrupt \(it does not decompress\) \[Z_DATA_ERROR\]$/],
      [gz.subarray(0, gz.length >> 1), 'gzip', 200, /^Prometheus GET \/api\/v1\/targets: the compressed answer was cut short \[Z_BUF_ERROR\]$/],
      [Buffer.from(body), 'br', 200, /^Prometheus GET \/api\/v1\/targets: the answer came with Content-Encoding "br", which the action did not ask for and cannot read$/],
    ] as const) {
      const server = await serve(sent, status, 'application/json', encoding);
      try {
        await expect(new PrometheusClient(urlEndpoint(server.url, 10_000)).activeTargets()).rejects.toThrow(expected);
      } finally {
        await server.close();
      }
    }
  }, 30_000);
});

describe('JsonStream', () => {
  const read = (text: string, cuts: number[]): { doc: unknown; elements: unknown[] } => {
    const elements: unknown[] = [];
    const stream = new JsonStream({ arrays: { 'data.activeTargets': { start: () => (elements.length = 0), element: (v) => elements.push(v) } }, maxValueBytes: 1 << 20 });
    const buf = Buffer.from(text);
    let at = 0;
    for (const cut of [...cuts.map((c) => c % (buf.length + 1))].sort((a, b) => a - b)) {
      stream.write(buf.subarray(at, Math.max(at, cut)));
      at = Math.max(at, cut);
    }
    stream.write(buf.subarray(at));
    return { doc: stream.end(), elements };
  };

  it('gives what JSON.parse gives, the streamed array handed over, wherever the chunks are cut', () => {
    const value = fc.jsonValue();
    const doc = fc.oneof(
      value,
      fc.record({ status: fc.string(), data: fc.oneof(value, fc.record({ activeTargets: fc.oneof(fc.array(value), value), other: value }, { requiredKeys: [] })) }, { requiredKeys: [] }),
    );
    fc.assert(
      fc.property(doc, fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), (d, cuts, spaced) => {
        const text = JSON.stringify(d, null, spaced ? 1 : undefined);
        const ref = JSON.parse(text) as { data?: { activeTargets?: unknown } };
        const got = read(text, cuts);
        const streamed = typeof ref === 'object' && ref !== null && !Array.isArray(ref) && typeof ref.data === 'object' && ref.data !== null && !Array.isArray(ref.data) && Array.isArray(ref.data.activeTargets);
        if (streamed) {
          expect(got.elements).toEqual(ref.data?.activeTargets);
          (ref.data as { activeTargets: unknown[] }).activeTargets = [];
        } else expect(got.elements).toEqual([]);
        expect(got.doc).toEqual(ref);
      }),
      { numRuns: 400 },
    );
  });

  it('gives what JSON.parse gives with the document cut in two at any byte', () => {
    const text = JSON.stringify({ status: 'success', data: { activeTargets: [{ a: 'x"y', b: [1, { c: null }] }, 'str', 12.5e3, true, [], {}], other: { k: ['\\', '\u00e9'] } }, n: -1 });
    const ref = JSON.parse(text) as { data: { activeTargets: unknown[] } };
    const elements = ref.data.activeTargets;
    ref.data.activeTargets = [];
    for (let cut = 0; cut <= Buffer.byteLength(text); cut++) {
      const got = read(text, [cut]);
      expect(got.elements).toEqual(elements);
      expect(got.doc).toEqual(ref);
    }
  });

  it('refuses what JSON.parse refuses', () => {
    for (const text of ['', '{', '{"data":{"activeTargets":[{"a":1}', '{"a":}', '{"a":1,}', '{"a" 1}', 'x', '{} x', '{"data":{"activeTargets":[1,]}}', '{"data":{"activeTargets":[1 2]}}', '"a\\"', '{"data":{"activeTargets":[tru]}}']) {
      expect(() => JSON.parse(text)).toThrow();
      expect(() => read(text, [1, 3])).toThrow(JsonStreamError);
    }
  });
});
