/**
 * The metrics of the TaskFlow workloads: the backend-api Flask app (prometheus_client), the
 * postgres-exporter and redis-exporter sidecars; and the factory for every simulated workload,
 * including the monitoring stacks' exporters (stack-workloads.ts). Each workload keeps its own
 * state and moves it forward with the time elapsed between scrapes.
 */
import { histogramSamples, type MetricFamily } from './exposition.js';
import { createStackWorkload, isStackExporterKind, type StackExporterKind, type StackWorkloadContext } from './stack-workloads.js';
import { goFamilies, round, TimedWorkload, type Workload } from './workload-base.js';

export type { Workload } from './workload-base.js';
export type { StackExporterKind, StackWorkloadContext } from './stack-workloads.js';

/** The TaskFlow application endpoints. */
export type ExporterKind = 'backend-api' | 'postgres' | 'redis';

/** Every kind of simulated metrics endpoint. */
export type AnyExporterKind = ExporterKind | StackExporterKind;

interface Route {
  method: string;
  endpoint: string;
  status: string;
  rate: number;
}

const ROUTES: Route[] = [
  { method: 'GET', endpoint: '/tasks', status: '200', rate: 4 },
  { method: 'POST', endpoint: '/tasks', status: '201', rate: 0.8 },
  { method: 'POST', endpoint: '/tasks', status: '400', rate: 0.05 },
  { method: 'GET', endpoint: '/tasks/<int:task_id>', status: '200', rate: 2 },
  { method: 'GET', endpoint: '/tasks/<int:task_id>', status: '404', rate: 0.1 },
  { method: 'PUT', endpoint: '/tasks/<int:task_id>', status: '200', rate: 0.5 },
  { method: 'DELETE', endpoint: '/tasks/<int:task_id>', status: '204', rate: 0.2 },
  { method: 'GET', endpoint: '/health', status: '200', rate: 0.2 },
];

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** backend-api: a Flask app instrumented with prometheus_client, as in the TaskFlow guide. */
class BackendApi extends TimedWorkload {
  private readonly requests = ROUTES.map(() => 0);
  private readonly bucketCounts = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  private durationSum = 0;

  constructor(startMs: number) {
    super(startMs, 5000, 48 * 1024 * 1024);
  }

  protected advance(dt: number): void {
    ROUTES.forEach((route, i) => {
      const n = this.increment(route.rate, dt);
      this.requests[i]! += n;
      for (let k = 0; k < n; k++) this.observe(0.004 + 0.08 * this.rnd() ** 3);
    });
  }

  private observe(seconds: number): void {
    const index = DURATION_BUCKETS.findIndex((bound) => seconds <= bound);
    this.bucketCounts[index === -1 ? DURATION_BUCKETS.length : index]! += 1;
    this.durationSum += seconds;
  }

  protected families(): MetricFamily[] {
    return [
      {
        name: 'python_info',
        help: 'Python platform information',
        type: 'gauge',
        samples: [{ labels: { implementation: 'CPython', major: '3', minor: '11', patchlevel: '9', version: '3.11.9' }, value: 1 }],
      },
      ...this.process.families(12),
      {
        name: 'http_requests_total',
        help: 'Total HTTP requests',
        type: 'counter',
        samples: ROUTES.map((route, i) => ({
          labels: { method: route.method, endpoint: route.endpoint, status: route.status },
          value: this.requests[i]!,
        })),
      },
      {
        name: 'request_duration_seconds',
        help: 'HTTP request duration',
        type: 'histogram',
        samples: histogramSamples(DURATION_BUCKETS, this.bucketCounts, round(this.durationSum, 6)),
      },
    ];
  }
}

/** postgres-exporter (prometheus-community) next to the taskflow database. */
class PostgresExporter extends TimedWorkload {
  private backends = 5;
  private commits = 0;
  private rollbacks = 0;
  private fetched = 0;
  private sizeBytes = 8_400_000;
  private scrapes = 0;

  constructor(startMs: number) {
    super(startMs, 9187, 14 * 1024 * 1024);
  }

  protected advance(dt: number): void {
    this.scrapes += 1;
    this.backends = this.wander(this.backends, 2, 1, 20);
    this.commits += this.increment(6, dt);
    this.rollbacks += this.increment(0.05, dt);
    this.fetched += this.increment(120, dt);
    this.sizeBytes += this.increment(40, dt) * 8;
  }

  protected families(): MetricFamily[] {
    const db = { datid: '16384', datname: 'taskflow' };
    return [
      ...goFamilies(9, 'go1.22.7'),
      ...this.process.families(10),
      { name: 'pg_up', help: 'Whether the last scrape of metrics from PostgreSQL was able to connect to the server (1 for yes, 0 for no).', type: 'gauge', samples: [{ value: 1 }] },
      { name: 'pg_exporter_scrapes_total', help: 'Total number of times PostgreSQL was scraped for metrics.', type: 'counter', samples: [{ value: this.scrapes }] },
      { name: 'pg_exporter_last_scrape_duration_seconds', help: 'Duration of the last scrape of metrics from PostgreSQL.', type: 'gauge', samples: [{ value: round(0.004 + 0.01 * this.rnd(), 6) }] },
      { name: 'pg_stat_database_numbackends', help: 'Number of backends currently connected to this database.', type: 'gauge', samples: [{ labels: db, value: this.backends }] },
      { name: 'pg_stat_database_xact_commit', help: 'Number of transactions in this database that have been committed', type: 'counter', samples: [{ labels: db, value: this.commits }] },
      { name: 'pg_stat_database_xact_rollback', help: 'Number of transactions in this database that have been rolled back', type: 'counter', samples: [{ labels: db, value: this.rollbacks }] },
      { name: 'pg_stat_database_tup_fetched', help: 'Number of rows fetched by queries in this database', type: 'counter', samples: [{ labels: db, value: this.fetched }] },
      { name: 'pg_database_size_bytes', help: 'Disk space used by the database', type: 'gauge', samples: [{ labels: { datname: 'taskflow' }, value: this.sizeBytes }] },
      { name: 'pg_settings_max_connections', help: 'Sets the maximum number of concurrent connections.', type: 'gauge', samples: [{ labels: { server: 'localhost:5432' }, value: 100 }] },
    ];
  }
}

/** redis_exporter (oliver006) next to the TaskFlow cache. */
class RedisExporter extends TimedWorkload {
  private clients = 3;
  private commands = 0;
  private hits = 0;
  private misses = 0;
  private keys = 42;
  private memoryBytes = 1_100_000;

  constructor(startMs: number) {
    super(startMs, 9121, 12 * 1024 * 1024);
  }

  protected advance(dt: number): void {
    this.clients = this.wander(this.clients, 1, 1, 12);
    this.commands += this.increment(15, dt);
    this.hits += this.increment(9, dt);
    this.misses += this.increment(1.5, dt);
    this.keys = this.wander(this.keys, 2, 10, 500);
    this.memoryBytes = 1_000_000 + this.keys * 1_200 + Math.round(50_000 * this.rnd());
  }

  protected families(): MetricFamily[] {
    return [
      ...goFamilies(8, 'go1.23.4'),
      ...this.process.families(9),
      { name: 'redis_up', help: 'Information about the Redis instance', type: 'gauge', samples: [{ value: 1 }] },
      { name: 'redis_uptime_in_seconds', help: 'uptime_in_seconds metric', type: 'gauge', samples: [{ value: this.uptimeSeconds() }] },
      { name: 'redis_connected_clients', help: 'connected_clients metric', type: 'gauge', samples: [{ value: this.clients }] },
      { name: 'redis_commands_processed_total', help: 'commands_processed_total metric', type: 'counter', samples: [{ value: this.commands }] },
      { name: 'redis_keyspace_hits_total', help: 'keyspace_hits_total metric', type: 'counter', samples: [{ value: this.hits }] },
      { name: 'redis_keyspace_misses_total', help: 'keyspace_misses_total metric', type: 'counter', samples: [{ value: this.misses }] },
      { name: 'redis_memory_used_bytes', help: 'memory_used_bytes metric', type: 'gauge', samples: [{ value: this.memoryBytes }] },
      { name: 'redis_db_keys', help: 'Total number of keys by DB', type: 'gauge', samples: [{ labels: { db: 'db0' }, value: this.keys }] },
    ];
  }
}

export function createWorkload(kind: AnyExporterKind, startMs: number = Date.now(), context: StackWorkloadContext = {}): Workload {
  if (isStackExporterKind(kind)) return createStackWorkload(kind, startMs, context);
  switch (kind) {
    case 'backend-api':
      return new BackendApi(startMs);
    case 'postgres':
      return new PostgresExporter(startMs);
    case 'redis':
      return new RedisExporter(startMs);
    default:
      throw new Error(`unknown exporter kind: ${String(kind)}`);
  }
}
