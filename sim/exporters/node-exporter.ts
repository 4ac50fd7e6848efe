/**
 * node_exporter (prometheus/node_exporter 1.x) on one node: the default Linux collectors a
 * dashboard reads — cpu, meminfo, filesystem, loadavg, netdev, stat, time, uname — plus the
 * per-collector scrape metrics, node_exporter_build_info and the Go/process metrics.
 *
 * Names, HELP texts and label names follow node_exporter's collector sources (collector/cpu_common.go,
 * meminfo.go, filesystem_common.go, loadavg.go, netdev_common.go, stat_linux.go, time.go, uname.go,
 * collector.go). Labels are written in lexical order, as client_golang writes them. The machine is
 * a 4-CPU, 8 GiB node booted three days before the exporter started.
 */
import type { MetricFamily, Sample } from './exposition.js';
import { buildInfoFamily, goFamilies, round, TimedWorkload } from './workload-base.js';

export interface NodeExporterOptions {
  /** The node's name, reported as `nodename` by node_uname_info (default sim-node). */
  nodeName?: string;
  /** node_exporter version for node_exporter_build_info (default 1.12.1). */
  version?: string;
}

const CPUS = 4;
const MODES = ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'] as const;
/** Share of each CPU's time per mode, before noise. */
const MODE_SHARE: Record<(typeof MODES)[number], number> = { idle: 0.82, iowait: 0.006, irq: 0, nice: 0.001, softirq: 0.004, steal: 0.002, system: 0.047, user: 0.12 };
const MEM_TOTAL = 8_323_407_872;
const BOOT_AGO_SECONDS = 3 * 86400;

interface Filesystem {
  device: string;
  fstype: string;
  mountpoint: string;
  size: number;
  free: number;
  files: number;
  filesFree: number;
}

const COLLECTORS = ['cpu', 'filesystem', 'loadavg', 'meminfo', 'netdev', 'stat', 'time', 'uname'];

export class NodeExporterWorkload extends TimedWorkload {
  private readonly nodeName: string;
  private readonly version: string;
  private readonly bootSeconds: number;
  private readonly cpu: number[][];
  private memAvailable = 5_400_000_000;
  private load = [0.42, 0.38, 0.31];
  private readonly net = { eth0: { rx: 0, tx: 0 }, lo: { rx: 0, tx: 0 } };
  private readonly filesystems: Filesystem[];
  private contextSwitches: number;

  constructor(startMs: number, options: NodeExporterOptions = {}) {
    super(startMs, 9100, 22 * 1024 * 1024);
    this.nodeName = options.nodeName ?? 'sim-node';
    this.version = options.version ?? '1.12.1';
    this.bootSeconds = Math.floor(startMs / 1000) - BOOT_AGO_SECONDS;
    this.cpu = Array.from({ length: CPUS }, () => MODES.map((m) => round(BOOT_AGO_SECONDS * MODE_SHARE[m], 2)));
    this.net.eth0 = { rx: 9_812_334_112, tx: 2_120_448_901 };
    this.net.lo = { rx: 1_334_009_877, tx: 1_334_009_877 };
    this.contextSwitches = 2_400_000 * 3 * 24;
    this.filesystems = [
      { device: '/dev/sda1', fstype: 'ext4', mountpoint: '/', size: 103_865_303_040, free: 61_230_120_960, files: 6_451_200, filesFree: 5_902_117 },
      { device: '/dev/sda15', fstype: 'vfat', mountpoint: '/boot/efi', size: 109_422_592, free: 103_246_848, files: 0, filesFree: 0 },
      { device: 'tmpfs', fstype: 'tmpfs', mountpoint: '/run', size: 832_344_064, free: 829_210_624, files: 1_016_041, filesFree: 1_015_170 },
    ];
  }

  protected advance(dt: number): void {
    for (const times of this.cpu) {
      const busy = 0.5 + this.rnd();
      MODES.forEach((mode, i) => {
        const share = mode === 'idle' ? 1 - (1 - MODE_SHARE.idle) * busy : MODE_SHARE[mode] * busy;
        times[i] = round(times[i]! + dt * share, 2);
      });
    }
    this.memAvailable = Math.min(MEM_TOTAL * 0.8, Math.max(MEM_TOTAL * 0.4, this.memAvailable + Math.round((this.rnd() * 2 - 1) * 40_000_000)));
    this.load = this.load.map((l, i) => round(Math.max(0.05, l + (this.rnd() - 0.5) * (0.2 / (i + 1))), 2));
    this.net.eth0.rx += this.increment(180_000, dt);
    this.net.eth0.tx += this.increment(45_000, dt);
    const loopback = this.increment(20_000, dt);
    this.net.lo.rx += loopback;
    this.net.lo.tx += loopback;
    this.contextSwitches += this.increment(2_400, dt);
    const root = this.filesystems[0]!;
    root.free = Math.max(1_000_000_000, root.free - this.increment(4_096, dt));
  }

  protected families(): MetricFamily[] {
    const now = this.nowMs / 1000;
    const fs = (pick: (f: Filesystem) => number): Sample[] =>
      this.filesystems.map((f) => ({ labels: { device: f.device, device_error: '', fstype: f.fstype, mountpoint: f.mountpoint }, value: pick(f) }));
    const memFree = Math.round(this.memAvailable * 0.42);
    const cached = Math.round(this.memAvailable * 0.5);
    return [
      ...goFamilies(8, 'go1.25.4'),
      ...this.process.families(9),
      { name: 'node_boot_time_seconds', help: 'Node boot time, in unixtime.', type: 'gauge', samples: [{ value: this.bootSeconds }] },
      { name: 'node_context_switches_total', help: 'Total number of context switches.', type: 'counter', samples: [{ value: this.contextSwitches }] },
      {
        name: 'node_cpu_seconds_total',
        help: 'Seconds the CPUs spent in each mode.',
        type: 'counter',
        samples: this.cpu.flatMap((times, cpu) => MODES.map((mode, i) => ({ labels: { cpu: String(cpu), mode }, value: times[i]! }))),
      },
      buildInfoFamily('node_exporter', { version: this.version, revision: 'a7dcc3a01545180d4f2087db70994cbc3abfed13', branch: 'HEAD', goversion: 'go1.25.4', tags: 'unknown' }),
      { name: 'node_filesystem_avail_bytes', help: 'Filesystem space available to non-root users in bytes.', type: 'gauge', samples: fs((f) => Math.max(0, f.free - Math.round(f.size * 0.05 * Number(f.fstype === 'ext4')))) },
      { name: 'node_filesystem_device_error', help: 'Whether an error occurred while getting statistics for the given device.', type: 'gauge', samples: fs(() => 0) },
      { name: 'node_filesystem_files', help: 'Filesystem total file nodes.', type: 'gauge', samples: fs((f) => f.files) },
      { name: 'node_filesystem_files_free', help: 'Filesystem total free file nodes.', type: 'gauge', samples: fs((f) => f.filesFree) },
      { name: 'node_filesystem_free_bytes', help: 'Filesystem free space in bytes.', type: 'gauge', samples: fs((f) => f.free) },
      { name: 'node_filesystem_readonly', help: 'Filesystem read-only status.', type: 'gauge', samples: fs(() => 0) },
      { name: 'node_filesystem_size_bytes', help: 'Filesystem size in bytes.', type: 'gauge', samples: fs((f) => f.size) },
      { name: 'node_load1', help: '1m load average.', type: 'gauge', samples: [{ value: this.load[0]! }] },
      { name: 'node_load15', help: '15m load average.', type: 'gauge', samples: [{ value: this.load[2]! }] },
      { name: 'node_load5', help: '5m load average.', type: 'gauge', samples: [{ value: this.load[1]! }] },
      { name: 'node_memory_Buffers_bytes', help: 'Memory information field Buffers_bytes.', type: 'gauge', samples: [{ value: 312_651_776 }] },
      { name: 'node_memory_Cached_bytes', help: 'Memory information field Cached_bytes.', type: 'gauge', samples: [{ value: cached }] },
      { name: 'node_memory_MemAvailable_bytes', help: 'Memory information field MemAvailable_bytes.', type: 'gauge', samples: [{ value: this.memAvailable }] },
      { name: 'node_memory_MemFree_bytes', help: 'Memory information field MemFree_bytes.', type: 'gauge', samples: [{ value: memFree }] },
      { name: 'node_memory_MemTotal_bytes', help: 'Memory information field MemTotal_bytes.', type: 'gauge', samples: [{ value: MEM_TOTAL }] },
      {
        name: 'node_network_receive_bytes_total',
        help: 'Network device statistic receive_bytes.',
        type: 'counter',
        samples: (['eth0', 'lo'] as const).map((device) => ({ labels: { device }, value: this.net[device].rx })),
      },
      {
        name: 'node_network_transmit_bytes_total',
        help: 'Network device statistic transmit_bytes.',
        type: 'counter',
        samples: (['eth0', 'lo'] as const).map((device) => ({ labels: { device }, value: this.net[device].tx })),
      },
      {
        name: 'node_scrape_collector_duration_seconds',
        help: 'node_exporter: Duration of a collector scrape.',
        type: 'gauge',
        samples: COLLECTORS.map((collector) => ({ labels: { collector }, value: round(0.0002 + 0.002 * this.rnd(), 6) })),
      },
      {
        name: 'node_scrape_collector_success',
        help: 'node_exporter: Whether a collector succeeded.',
        type: 'gauge',
        samples: COLLECTORS.map((collector) => ({ labels: { collector }, value: 1 })),
      },
      { name: 'node_time_seconds', help: 'System time in seconds since epoch (1970).', type: 'gauge', samples: [{ value: round(now, 3) }] },
      {
        name: 'node_uname_info',
        help: 'Labeled system information as provided by the uname system call.',
        type: 'gauge',
        samples: [
          {
            labels: { domainname: '(none)', machine: 'x86_64', nodename: this.nodeName, release: '6.8.0-1021-azure', sysname: 'Linux', version: '#25-Ubuntu SMP Wed Jan 15 20:45:09 UTC 2025' },
            value: 1,
          },
        ],
      },
    ];
  }
}
