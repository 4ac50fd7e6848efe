/**
 * Which simulated exporters a pod of a monitoring stack runs, and on which ports: the cluster
 * assembly starts one exporter server per entry, on the pod IP.
 *
 * A container is recognised by its image name (the last path segment, registry and tag ignored:
 * quay.io/prometheus/node-exporter:v1.12.1-distroless → node-exporter), or, for pods whose image is
 * mirrored under another name, by the pod's app.kubernetes.io/name label. Ports come from the
 * container's args with the programs' own defaults, as the real binaries bind them:
 * - node_exporter `--web.listen-address` (default :9100);
 * - kube-state-metrics `--port` (default 8080) and `--telemetry-port` (default 8081);
 * - prometheus-config-reloader `--listen-address` (default :8080);
 * - prometheus-operator `--web.listen-address` (default :8080).
 * Prometheus and Grafana containers are not exporters: the simulator runs a real Prometheus and
 * its simulated Grafana for them.
 */
import type { KubeObject } from '../kube/view.js';
import type { StackExporterKind } from './stack-workloads.js';

export interface PodExporter {
  kind: StackExporterKind;
  /** The container the exporter stands for. */
  container: string;
  /** The TCP port it listens on, on the pod IP. */
  port: number;
  /** The name of the matching container port, when the pod spec declares one. */
  portName?: string;
  /** The container's args, for the exporters that read them. */
  args: string[];
  /** The pod's node (`spec.nodeName`). */
  nodeName?: string;
  /** The version in the image tag (`v2.20.0` → `2.20.0`), when it has one. */
  version?: string;
}

interface ContainerSpec {
  name: string;
  image?: string;
  args?: string[];
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
}

type Program = 'node-exporter' | 'kube-state-metrics' | 'prometheus-config-reloader' | 'prometheus-operator';

/** Image names (last path segment) of the programs simulated here. */
const IMAGE_NAMES: Record<string, Program> = {
  'node-exporter': 'node-exporter',
  'kube-state-metrics': 'kube-state-metrics',
  'prometheus-config-reloader': 'prometheus-config-reloader',
  'prometheus-operator': 'prometheus-operator',
};

/** app.kubernetes.io/name values of the stacks' pods, for images that do not say what they are. */
const NAME_LABELS: Record<string, Program> = {
  'node-exporter': 'node-exporter',
  'prometheus-node-exporter': 'node-exporter',
  'kube-state-metrics': 'kube-state-metrics',
  'prometheus-operator': 'prometheus-operator',
  'kube-prometheus-stack-prometheus-operator': 'prometheus-operator',
};

/** `quay.io/prometheus/node-exporter:v1.12.1-distroless` → name `node-exporter`, tag `v1.12.1-distroless`. */
export function parseImage(image: string): { name: string; tag?: string } {
  const withoutDigest = image.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const tail = withoutDigest.slice(lastSlash + 1);
  const colon = tail.indexOf(':');
  return colon === -1 ? { name: tail } : { name: tail.slice(0, colon), tag: tail.slice(colon + 1) };
}

function versionOf(tag: string | undefined): string | undefined {
  const match = /^v?(\d+\.\d+\.\d+)/.exec(tag ?? '');
  return match?.[1];
}

/** The value of `--flag=value` or `--flag value` in a container's command line. */
function flag(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
    if (arg === `--${name}` && i + 1 < argv.length) return argv[i + 1];
  }
  return undefined;
}

/** The port of a listen address (`:9100`, `0.0.0.0:8080`, `[$(HOST_IP)]:9100`), else `fallback`. */
function listenPort(address: string | undefined, fallback: number): number {
  const match = /:(\d+)$/.exec(address ?? '');
  return match ? Number(match[1]) : fallback;
}

function numberFlag(argv: readonly string[], name: string, fallback: number): number {
  const value = Number(flag(argv, name));
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

function programOf(container: ContainerSpec, podName: string | undefined, onlyContainer: boolean): Program | undefined {
  const byImage = IMAGE_NAMES[parseImage(container.image ?? '').name];
  if (byImage) return byImage;
  // The label names the pod's program; it can only stand for the container when there is one.
  return onlyContainer && podName ? NAME_LABELS[podName] : undefined;
}

/** The exporters a pod runs, one per (container, port), in container order. */
export function exportersForPod(pod: KubeObject): PodExporter[] {
  const spec = (pod.spec ?? {}) as { containers?: ContainerSpec[]; nodeName?: string };
  const containers = spec.containers ?? [];
  const nameLabel = pod.metadata.labels?.['app.kubernetes.io/name'];
  const out: PodExporter[] = [];
  for (const container of containers) {
    const program = programOf(container, nameLabel, containers.length === 1);
    if (!program) continue;
    const argv = [...(container.command ?? []), ...(container.args ?? [])];
    const base = {
      container: container.name,
      args: [...(container.args ?? [])],
      nodeName: spec.nodeName,
      version: versionOf(parseImage(container.image ?? '').tag),
    };
    const entry = (kind: StackExporterKind, port: number): PodExporter => {
      const named = (container.ports ?? []).find((p) => p.containerPort === port)?.name;
      return { kind, port, ...(named ? { portName: named } : {}), ...base };
    };
    switch (program) {
      case 'node-exporter':
        out.push(entry('node-exporter', listenPort(flag(argv, 'web.listen-address'), 9100)));
        break;
      case 'kube-state-metrics':
        out.push(entry('kube-state-metrics', numberFlag(argv, 'port', 8080)));
        out.push(entry('kube-state-metrics-telemetry', numberFlag(argv, 'telemetry-port', 8081)));
        break;
      case 'prometheus-config-reloader':
        out.push(entry('prometheus-config-reloader', listenPort(flag(argv, 'listen-address'), 8080)));
        break;
      case 'prometheus-operator':
        out.push(entry('prometheus-operator', listenPort(flag(argv, 'web.listen-address'), 8080)));
        break;
    }
  }
  return out;
}

/**
 * The exporter a pod's workload is (node-exporter, kube-state-metrics, prometheus-operator), or
 * undefined when the pod's main program is something else — a Prometheus pod's config-reloader
 * sidecar is listed by exportersForPod, but the pod is Prometheus.
 */
export function exporterKindForPod(pod: KubeObject): StackExporterKind | undefined {
  const main = exportersForPod(pod).find((e) => e.kind !== 'prometheus-config-reloader' && e.kind !== 'kube-state-metrics-telemetry');
  return main?.kind;
}
