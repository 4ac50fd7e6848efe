/**
 * The self-metrics of prometheus-operator's two programs:
 * - prometheus-config-reloader, the sidecar of operator-made Prometheus pods (port reloader-web
 *   8080) and, in the prometheus community chart, the server pod's configmap-reload container
 *   (port metrics 8080): the reloader metrics of thanos pkg/reloader plus
 *   prometheus_config_reloader_build_info (cmd/prometheus-config-reloader, internal/metrics);
 * - the operator itself (port http 8080): prometheus_operator_* with the `controller` label the
 *   controllers add (pkg/prometheus/server/operator.go WrapRegistererWith), build info, Go/process.
 * The reloader reports one successful reload at start, like a sidecar whose first apply succeeded.
 */
import type { MetricFamily } from './exposition.js';
import { buildInfoFamily, goFamilies, TimedWorkload } from './workload-base.js';

export interface OperatorMetricsOptions {
  /** prometheus-operator release of the image (default 0.93.1). */
  version?: string;
}

export class ConfigReloaderWorkload extends TimedWorkload {
  private readonly version: string;
  private readonly reloadedAt: number;
  private watchEvents = 3;

  constructor(startMs: number, options: OperatorMetricsOptions = {}) {
    super(startMs, 8080, 16 * 1024 * 1024);
    this.version = options.version ?? '0.93.1';
    this.reloadedAt = Math.floor(startMs / 1000);
  }

  protected advance(dt: number): void {
    this.watchEvents += this.increment(1 / 600, dt);
  }

  protected families(): MetricFamily[] {
    return [
      ...goFamilies(11, 'go1.25.4'),
      ...this.process.families(10),
      buildInfoFamily('prometheus_config_reloader', { version: this.version, revision: '6adcebc5076c34f4f55f8f5f7b1e528929373ac7', branch: 'refs/tags/v' + this.version, goversion: 'go1.25.4' }),
      { name: 'reloader_config_apply_operations_failed_total', help: 'Total number of config apply operations that failed.', type: 'counter', samples: [{ value: 0 }] },
      { name: 'reloader_config_apply_operations_total', help: 'Total number of config apply operations.', type: 'counter', samples: [{ value: 1 }] },
      { name: 'reloader_last_reload_success_timestamp_seconds', help: 'Timestamp of the last successful reload', type: 'gauge', samples: [{ value: this.reloadedAt }] },
      { name: 'reloader_last_reload_successful', help: 'Whether the last reload attempt was successful', type: 'gauge', samples: [{ value: 1 }] },
      { name: 'reloader_reloads_failed_total', help: 'Total number of reload requests that failed.', type: 'counter', samples: [{ value: 0 }] },
      { name: 'reloader_reloads_total', help: 'Total number of reload requests.', type: 'counter', samples: [{ value: 1 }] },
      { name: 'reloader_watch_errors_total', help: 'Total number of errors received by the reloader from the watcher.', type: 'counter', samples: [{ value: 0 }] },
      { name: 'reloader_watch_events_total', help: 'Total number of events received by the reloader from the watcher.', type: 'counter', samples: [{ value: this.watchEvents }] },
      { name: 'reloader_watches', help: 'Number of resources watched by the reloader.', type: 'gauge', samples: [{ value: 1 }] },
    ];
  }
}

const CONTROLLERS = ['alertmanager', 'prometheus', 'prometheus-agent', 'thanos'] as const;

export class PrometheusOperatorWorkload extends TimedWorkload {
  private readonly version: string;
  private readonly lists = CONTROLLERS.map(() => 14);
  private readonly watches = CONTROLLERS.map(() => 14);
  private readonly reconciles = CONTROLLERS.map((c) => (c === 'prometheus' ? 3 : 0));

  constructor(startMs: number, options: OperatorMetricsOptions = {}) {
    super(startMs, 8079, 42 * 1024 * 1024);
    this.version = options.version ?? '0.93.1';
  }

  protected advance(dt: number): void {
    CONTROLLERS.forEach((c, i) => {
      this.watches[i]! += this.increment(1 / 300, dt);
      if (c === 'prometheus') this.reconciles[i]! += this.increment(1 / 60, dt);
    });
  }

  protected families(): MetricFamily[] {
    const per = (values: number[]) => CONTROLLERS.map((controller, i) => ({ labels: { controller }, value: values[i]! }));
    return [
      ...goFamilies(196, 'go1.25.4'),
      ...this.process.families(18),
      buildInfoFamily('prometheus_operator', { version: this.version, revision: '6adcebc5076c34f4f55f8f5f7b1e528929373ac7', branch: 'refs/tags/v' + this.version, goversion: 'go1.25.4' }),
      { name: 'prometheus_operator_list_operations_failed_total', help: 'Total number of list operations that failed', type: 'counter', samples: per(CONTROLLERS.map(() => 0)) },
      { name: 'prometheus_operator_list_operations_total', help: 'Total number of list operations', type: 'counter', samples: per(this.lists) },
      { name: 'prometheus_operator_ready', help: '1 when the controller is ready to reconcile resources, 0 otherwise', type: 'gauge', samples: per(CONTROLLERS.map(() => 1)) },
      { name: 'prometheus_operator_reconcile_errors_total', help: 'Number of errors that occurred during reconcile operations', type: 'counter', samples: per(CONTROLLERS.map(() => 0)) },
      { name: 'prometheus_operator_reconcile_operations_total', help: 'Total number of reconcile operations', type: 'counter', samples: per(this.reconciles) },
      { name: 'prometheus_operator_watch_operations_failed_total', help: 'Total number of watch operations that failed', type: 'counter', samples: per(CONTROLLERS.map(() => 0)) },
      { name: 'prometheus_operator_watch_operations_total', help: 'Total number of watch operations', type: 'counter', samples: per(this.watches) },
    ];
  }
}
