/** A Prometheus that runs another configuration than its ConfigMap holds: edited, not reloaded. */
import type { Finding } from '../types.js';
import { inConfig, parsePromConfig, type ConfigSource, type JobConfig } from './config.js';
import { workloadOf } from './pod-state.js';
import { evidence, messageOf, type Probe } from './probe.js';

/** The scrape job as the ConfigMap holds it, or why it could not be read. */
interface StoredJob {
  readonly job?: JobConfig;
  readonly parseError?: string;
}

export async function storedJob(p: Probe, source: ConfigSource, jobName: string): Promise<StoredJob | undefined> {
  const ns = source.configMap.namespace ?? p.ns;
  const name = source.configMap.name;
  const cm = await p.read(`ConfigMap ${ns}/${name}`, { verb: 'get', resource: 'configmaps', namespace: ns }, () => p.ctx.cluster.readConfigMap(ns, name, p.ctx.signal));
  const file = cm?.data?.[source.key];
  if (file === undefined) return undefined;
  try {
    const job = parsePromConfig(file).jobs.find((j) => j.name === jobName);
    return job ? { job } : {};
  } catch (err) {
    return { parseError: messageOf(err) };
  }
}

/**
 * What decides which pods become targets, for comparing the running job with the ConfigMap's:
 * the relabel rules, and the namespaces when both discover through Kubernetes.
 */
function sameSelection(a: JobConfig, b: JobConfig): boolean {
  const rules = (j: JobConfig): string => JSON.stringify(j.relabel.map((r) => [r.action, r.sourceLabels, r.separator, r.regexText, r.targetLabel, r.replacement]));
  const discovery = (j: JobConfig): string => JSON.stringify(j.sd.map((d) => [d.role, d.namespaces, d.ownNamespace]));
  return rules(a) === rules(b) && (!a.sd.length || !b.sd.length || discovery(a) === discovery(b));
}

/** The job in the ConfigMap differs from the one Prometheus runs: it was edited and not reloaded. */
export async function staleConfigFinding(p: Probe, running: JobConfig, stored: StoredJob, source: ConfigSource): Promise<Finding[]> {
  const ref = `${source.configMap.namespace ?? p.ns}/${source.configMap.name}`;
  if (stored.parseError !== undefined) {
    return [
      {
        cause: `${source.key} in ConfigMap ${ref} is not valid YAML, so Prometheus keeps running an older configuration`,
        fix: `Fix ${source.key} (promtool check config shows the error), then restart Prometheus`,
        evidence: evidence([stored.parseError]),
        target: inConfig(source, []),
      },
    ];
  }
  if (stored.job && sameSelection(stored.job, running)) return [];
  const pod = await p.prometheusPod();
  const deployment = pod ? await workloadOf(p, pod) : undefined;
  return [
    {
      cause: stored.job
        ? `Job ${running.name} in ConfigMap ${ref} differs from the configuration Prometheus runs: Prometheus has not reloaded the ConfigMap since it changed`
        : `ConfigMap ${ref} no longer has job ${running.name}, which Prometheus still runs: Prometheus has not reloaded the ConfigMap since it changed`,
      fix: deployment
        ? `Restart Prometheus to load it (kubectl rollout restart ${deployment.kind.toLowerCase()}/${deployment.name} -n ${deployment.namespace})`
        : 'Restart Prometheus to load it',
      target: inConfig(source, ['scrape_configs', stored.job?.index ?? running.index]),
    },
  ];
}
