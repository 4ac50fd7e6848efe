/**
 * What every simulated metrics endpoint shares: the `Workload` contract, a small deterministic
 * random generator, the process-level metrics Go and Python client libraries export, and a base
 * class that moves a workload's state forward with the time elapsed between two scrapes (counters
 * grow at a plausible rate, gauges wander within bounds).
 */
import type { MetricFamily } from './exposition.js';

export interface Workload {
  /** Metric families as of `nowMs`. */
  collect(nowMs: number): MetricFamily[];
}

/** Small deterministic generator (xorshift32), so two runs of a workload produce comparable series. */
export function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Shared process-level state: CPU time, memory, start time. */
export class ProcessStats {
  cpuSeconds = 0;
  residentBytes: number;
  readonly startSeconds: number;

  constructor(
    startMs: number,
    private readonly baseBytes: number,
    private readonly rnd: () => number,
  ) {
    this.startSeconds = Math.floor(startMs / 1000);
    this.residentBytes = baseBytes;
  }

  advance(dtSeconds: number): void {
    this.cpuSeconds += dtSeconds * (0.01 + 0.03 * this.rnd());
    this.residentBytes = Math.round(this.baseBytes * (1 + 0.1 * this.rnd()));
  }

  families(openFds: number): MetricFamily[] {
    return [
      { name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', type: 'counter', samples: [{ value: round(this.cpuSeconds, 2) }] },
      { name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', type: 'gauge', samples: [{ value: this.residentBytes }] },
      { name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.', type: 'gauge', samples: [{ value: this.startSeconds }] },
      { name: 'process_open_fds', help: 'Number of open file descriptors.', type: 'gauge', samples: [{ value: openFds }] },
      { name: 'process_max_fds', help: 'Maximum number of open file descriptors.', type: 'gauge', samples: [{ value: 1048576 }] },
    ];
  }
}

/** Base class: tracks the elapsed time between collections. */
export abstract class TimedWorkload implements Workload {
  protected readonly rnd: () => number;
  protected readonly process: ProcessStats;
  private readonly startMs: number;
  private lastMs: number;

  constructor(startMs: number, seed: number, baseBytes: number) {
    this.rnd = random(seed);
    this.process = new ProcessStats(startMs, baseBytes, this.rnd);
    this.startMs = startMs;
    this.lastMs = startMs;
  }

  protected uptimeSeconds(): number {
    return Math.floor((this.lastMs - this.startMs) / 1000);
  }

  /** Wall-clock time of the latest collection, in ms. */
  protected get nowMs(): number {
    return this.lastMs;
  }

  collect(nowMs: number): MetricFamily[] {
    const dt = Math.max(0, (nowMs - this.lastMs) / 1000);
    this.lastMs = Math.max(this.lastMs, nowMs);
    this.process.advance(dt);
    this.advance(dt);
    return this.families();
  }

  protected abstract advance(dtSeconds: number): void;
  protected abstract families(): MetricFamily[];

  /** A random whole increment averaging `ratePerSecond * dt` (rare events still happen). */
  protected increment(ratePerSecond: number, dt: number): number {
    const expected = ratePerSecond * dt * (0.5 + this.rnd());
    const whole = Math.floor(expected);
    return whole + (this.rnd() < expected - whole ? 1 : 0);
  }

  /** A gauge moving by at most `step` per collection, kept within [min, max]. */
  protected wander(value: number, step: number, min: number, max: number): number {
    const next = value + Math.round((this.rnd() * 2 - 1) * step);
    return Math.min(max, Math.max(min, next));
  }
}

/** Process metrics common to the Go exporters. */
export function goFamilies(goroutines: number, version: string): MetricFamily[] {
  return [
    { name: 'go_goroutines', help: 'Number of goroutines that currently exist.', type: 'gauge', samples: [{ value: goroutines }] },
    { name: 'go_info', help: 'Information about the Go environment.', type: 'gauge', samples: [{ labels: { version }, value: 1 }] },
  ];
}

/**
 * `<program>_build_info`, as client_golang's version collector (prometheus/common/version) writes
 * it: a constant 1 labelled with the build facts, labels in lexical order.
 */
export function buildInfoFamily(
  program: string,
  build: { version: string; revision: string; branch: string; goversion: string; tags?: string },
  constLabels: Record<string, string> = {},
): MetricFamily {
  const all: Record<string, string> = { ...constLabels, branch: build.branch, goarch: 'amd64', goos: 'linux', goversion: build.goversion, revision: build.revision, tags: build.tags ?? 'unknown', version: build.version };
  const labels = Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]!]));
  return {
    name: `${program}_build_info`,
    help: `A metric with a constant '1' value labeled by version, revision, branch, goversion from which ${program} was built, and the goos and goarch for the build.`,
    type: 'gauge',
    samples: [{ labels, value: 1 }],
  };
}
