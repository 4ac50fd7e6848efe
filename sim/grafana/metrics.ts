/**
 * Grafana's own Prometheus metrics, served at `GET /metrics` without authentication (Grafana's
 * default: `[metrics] enabled = true`, no basic auth): a few real families
 * (pkg/infra/metrics/metrics.go, pkg/middleware/request_metrics.go) — build info, instance
 * starts, API/page response status counters, the HTTP request latency histogram by handler,
 * datasource totals by plugin — and the Go process families every Go binary exposes.
 */
import type { MetricFamily, Sample } from '../exporters/exposition.js';
import { histogramSamples, renderFamilies } from '../exporters/exposition.js';
import type { ProvisionedDatasource } from './datasource-store.js';

/** prometheus.DefBuckets, which the request histogram uses. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** The codes Grafana pre-registers on its response status counters. */
const STATUS_CODES = ['200', '404', '500', 'unknown'];

interface Latency {
  readonly labels: Record<string, string>;
  readonly counts: number[];
  sum: number;
}

export interface BuildInfo {
  readonly version: string;
  readonly commit: string;
}

export class GrafanaMetrics {
  private readonly apiStatus = new Map<string, number>(STATUS_CODES.map((c) => [c, 0]));
  private readonly pageStatus = new Map<string, number>(STATUS_CODES.map((c) => [c, 0]));
  private readonly latencies = new Map<string, Latency>();
  private readonly startedAt = Date.now() / 1000;

  constructor(private readonly build: BuildInfo) {}

  /** Counts one served request under its route pattern (`/api/datasources/uid/:uid`). */
  observe(handler: string, method: string, status: number, seconds: number): void {
    const code = STATUS_CODES.includes(String(status)) ? String(status) : 'unknown';
    const counter = handler.startsWith('/api/') ? this.apiStatus : this.pageStatus;
    counter.set(code, (counter.get(code) ?? 0) + 1);
    const labels = { handler, method, status_code: String(status), status_source: 'server' };
    const key = JSON.stringify(labels);
    let latency = this.latencies.get(key);
    if (!latency) this.latencies.set(key, (latency = { labels, counts: new Array(BUCKETS.length + 1).fill(0), sum: 0 }));
    const bucket = BUCKETS.findIndex((bound) => seconds <= bound);
    latency.counts[bucket < 0 ? BUCKETS.length : bucket]! += 1;
    latency.sum += seconds;
  }

  /** The exposition text, with datasource totals taken from the current database. */
  render(datasources: readonly ProvisionedDatasource[]): string {
    const byPlugin = new Map<string, number>();
    for (const ds of datasources) byPlugin.set(ds.type, (byPlugin.get(ds.type) ?? 0) + 1);
    const memory = process.memoryUsage();
    const statusSamples = (counter: Map<string, number>): Sample[] =>
      [...counter].map(([code, value]) => ({ labels: { code }, value }));
    const families: MetricFamily[] = [
      {
        name: 'go_goroutines',
        help: 'Number of goroutines that currently exist.',
        type: 'gauge',
        samples: [{ value: 180 + datasources.length }],
      },
      {
        name: 'grafana_api_response_status_total',
        help: 'api http response status',
        type: 'counter',
        samples: statusSamples(this.apiStatus),
      },
      {
        name: 'grafana_build_info',
        help: "A metric with a constant '1' value labeled by version, revision, branch, and goversion from which Grafana was built",
        type: 'gauge',
        samples: [
          {
            labels: { branch: 'HEAD', edition: 'oss', goversion: 'go1.23.4', revision: this.build.commit, version: this.build.version },
            value: 1,
          },
        ],
      },
      {
        name: 'grafana_http_request_duration_seconds',
        help: 'Histogram of latencies for HTTP requests.',
        type: 'histogram',
        samples: [...this.latencies.values()].flatMap((l) => histogramSamples(BUCKETS, l.counts, l.sum, l.labels)),
      },
      {
        name: 'grafana_instance_start_total',
        help: 'counter for started instances',
        type: 'counter',
        samples: [{ value: 1 }],
      },
      {
        name: 'grafana_page_response_status_total',
        help: 'page http response status',
        type: 'counter',
        samples: statusSamples(this.pageStatus),
      },
      {
        name: 'grafana_stat_totals_datasource',
        help: 'total number of defined datasources, labeled by pluginId',
        type: 'gauge',
        samples: [...byPlugin].map(([plugin, value]) => ({ labels: { plugin_id: plugin }, value })),
      },
      {
        name: 'process_resident_memory_bytes',
        help: 'Resident memory size in bytes.',
        type: 'gauge',
        samples: [{ value: memory.rss }],
      },
      {
        name: 'process_start_time_seconds',
        help: 'Start time of the process since unix epoch in seconds.',
        type: 'gauge',
        samples: [{ value: Math.floor(this.startedAt * 100) / 100 }],
      },
    ];
    return renderFamilies(families);
  }
}
