/**
 * `prometheus-targets`: why the scrape job lacks a target or has one DOWN, chosen by the check's
 * reason. With a Prometheus the Prometheus Operator runs, the monitors are followed (operator.ts);
 * otherwise the job is read from Prometheus's running configuration, its discovery and relabel
 * rules are replayed against the pods it should find. Either way each DOWN target's last error is
 * read against its pod, and targets not scraped yet are told apart.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { labelValue, nameOf, targetLabelOf } from '../../checks/prometheus-targets.js';
import { isReady } from '../../endpoint.js';
import type { Target } from '../../prometheus.js';
import { isReason, type Reason, type ReasonOf } from '../../reasons.js';
import type { Finding } from '../types.js';
import { configName, DEFAULT_INTERVAL, inConfig, jobNamespaces, type ConfigSource, type JobConfig, type PromConfig } from './config.js';
import { droppedFinding } from './dropped.js';
import { downFinding } from './down.js';
import { poolMonitor } from './monitors.js';
import { operatorFindings, type MonitorScope } from './operator.js';
import { discoveryPending, notScrapedYet } from './pending.js';
import { explainPod, podRef } from './pod-state.js';
import { evidence, type Probe } from './probe.js';
import { jobsScope, rbacFindings } from './rbac.js';
import { LABEL_PREFIX, ruleText, sanitize, whyDropped } from './relabel.js';
import { staleConfigFinding, storedJob } from './stale.js';
import { jobTargets, scraped, targetNamespace, targetPodName } from './target.js';

/** DOWN targets explained one by one; the rest are counted in a note. */
const MAX_DOWN_FINDINGS = 5;

const TARGET_REASONS = ['targets.none', 'targets.too-few', 'targets.expected-missing', 'targets.pools-down', 'targets.pools-degraded'] as const;
type TargetsReason = ReasonOf<(typeof TARGET_REASONS)[number]>;

/** Whether the targets prober has something to say about this reason. */
export function isTargetsReason(reason: Reason | undefined): reason is TargetsReason {
  return isReason(reason, ...TARGET_REASONS);
}

/** The pods that look like the expected `value` though they do not carry label=value: named after it. */
function namedAfter(pods: readonly V1Pod[], value: string, label: string): V1Pod[] {
  return pods.filter((pod) => {
    const name = pod.metadata?.name ?? '';
    return pod.metadata?.labels?.[label] !== value && (name === value || name.startsWith(`${value}-`)) && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(name.slice(value.length + 1) || 'x');
  });
}

/** What one diagnosis of the targets looks at. */
interface Scope {
  /** The scrape pool or job label value (`''`: every pool). */
  readonly job: string;
  readonly label: string;
  /** Expected values of the label no UP target has. */
  readonly missing: readonly string[];
  /** The targets of the job (every target for `''`). */
  readonly targets: readonly Target[];
  readonly config: PromConfig | undefined;
  readonly source: ConfigSource | undefined;
}

/** The findings of `prometheus-targets`, most telling first. */
export async function targetsFindings(p: Probe, reason: Reason | undefined): Promise<void> {
  if (!isTargetsReason(reason)) return;
  const { expect } = p.ctx.stack;
  const warned = isReason(reason, 'targets.pools-down', 'targets.pools-degraded') ? reason.pools : undefined;
  const job = isReason(reason, 'targets.pools-down', 'targets.pools-degraded') ? '' : reason.job;
  const [config, allTargets, source] = await Promise.all([p.config(), p.targets(), p.configSource()]);
  const all = allTargets ?? [];
  const targets = jobTargets(all, job);
  const label = isReason(reason, 'targets.expected-missing') ? reason.label : targetLabelOf(targets, expect.targetLabel);
  const missing = isReason(reason, 'targets.expected-missing')
    ? reason.missing
    : expect.expectedTargets.filter((v) => !targets.some((t) => t.health === 'up' && labelValue(t, label) === v));
  const scope: Scope = { job, label, missing, targets, config, source };

  const operator = p.site?.operator !== undefined;
  const { findings: upstream, pods } = operator
    ? { findings: await operatorFindings(p, monitorScope(reason, job, label, missing), all, config), pods: [] }
    : warned
      ? { findings: [], pods: [] }
      : await configFindings(p, scope);

  // DOWN targets: each one's last error read against its pod (the warned pools first).
  const downFindings: Finding[] = [];
  const down = targets.filter((t) => t.health === 'down').sort((a, b) => Number(warned?.includes(b.scrapePool) ?? 0) - Number(warned?.includes(a.scrapePool) ?? 0));
  for (const t of down.slice(0, MAX_DOWN_FINDINGS)) {
    const podName = targetPodName(t);
    const ns = targetNamespace(t, p.ns);
    const pod = podName ? (pods.find((x) => x.metadata?.name === podName && x.metadata.namespace === ns) ?? (await p.pods(ns))?.find((x) => x.metadata?.name === podName)) : undefined;
    downFindings.push(await downFinding(p, t, pod, config?.jobs.find((j) => j.name === t.scrapePool), source, label));
  }
  if (down.length > MAX_DOWN_FINDINGS) p.note(`${down.length - MAX_DOWN_FINDINGS} more DOWN targets not explained one by one`);

  // Targets discovered but not scraped yet.
  const waitFindings: Finding[] = [];
  const unscraped = targets.filter((t) => !scraped(t));
  if (unscraped.length && !down.length) {
    const interval = config?.jobs.find((j) => j.name === unscraped[0]?.scrapePool)?.scrapeInterval ?? unscraped[0]?.scrapeInterval ?? DEFAULT_INTERVAL;
    waitFindings.push(notScrapedYet(p, interval, unscraped.map((t) => nameOf(t, label))));
  }

  // A warning is about its DOWN pools: they come first, then what else the monitors show.
  const found = warned ? [...downFindings, ...upstream, ...waitFindings] : [...upstream, ...downFindings, ...waitFindings];
  // Nothing wrong was found and nothing is discovered yet: Prometheus may just have started.
  const interval = config?.jobs.find((j) => j.name === job)?.scrapeInterval ?? config?.jobs[0]?.scrapeInterval ?? DEFAULT_INTERVAL;
  const pending = !found.length && !targets.length ? await discoveryPending(p, interval) : undefined;
  p.findings.push(...found, ...(pending ? [pending] : []));
}

/** The monitors to follow for a reason: the pool the job names, the monitors making the missing values, or every monitor. */
function monitorScope(reason: TargetsReason, job: string, label: string, missing: readonly string[]): MonitorScope {
  if (isReason(reason, 'targets.pools-down', 'targets.pools-degraded')) return { every: true };
  if (poolMonitor(job)) return { pools: [job] };
  if (isReason(reason, 'targets.expected-missing')) return { values: { label, values: missing } };
  if (job) return { values: { label: 'job', values: [job] } };
  return { every: true };
}

/** The scrape job of the configuration the check looked at, as the ConfigMap writes it when Prometheus runs it through another discovery. */
async function jobOf(p: Probe, s: Scope): Promise<{ running?: JobConfig; job?: JobConfig; stale: Finding[] }> {
  if (!s.job) return { stale: [] };
  const running = s.config?.jobs.find((j) => j.name === s.job) ?? s.config?.jobs.find((j) => s.targets.some((t) => t.job === s.job && t.scrapePool === j.name));
  const stored = running && s.source ? await storedJob(p, s.source, running.name) : undefined;
  const job = running && !running.sd.length && stored?.job?.sd.length ? stored.job : running;
  // The ConfigMap edited since Prometheus loaded it.
  const stale = running && s.source && stored ? await staleConfigFinding(p, running, stored, s.source) : [];
  return { ...(running ? { running } : {}), ...(job ? { job } : {}), stale };
}

/** Prometheus without the operator: the job in the running configuration, replayed against the pods (returned for the DOWN targets). */
async function configFindings(p: Probe, s: Scope): Promise<{ findings: Finding[]; pods: V1Pod[] }> {
  const { config, source, label, missing, targets } = s;
  const { job, stale } = await jobOf(p, s);
  // One job, or (every pool) the jobs that discover through Kubernetes.
  const jobs = s.job ? (job ? [job] : []) : (config?.jobs.filter((j) => j.sd.length) ?? []);
  const podJobs = jobs.filter((j) => j.sd.length && j.sd.every((sd) => sd.role === 'pod'));

  const jobMissing: Finding[] = [];
  if (s.job && config && !job) {
    const names = config.jobs.map((j) => j.name);
    jobMissing.push({
      cause: `Prometheus's configuration has no scrape job ${s.job}${names.length ? ` (its jobs: ${names.join(', ')})` : ''}`,
      fix: `Add the job to ${source?.key ?? 'prometheus.yml'} in ${configName(source)} and restart Prometheus, or set the scrape-job input to one of its jobs`,
      target: inConfig(source, ['scrape_configs']),
    });
  }
  // Permissions matter for Kubernetes discovery; with the configuration unread, pod discovery in Prometheus's namespace is assumed.
  const rbac = jobs.length || !config ? await rbacFindings(p, jobsScope(jobs, p.ns)) : [];

  // The namespaces the job discovers pods in (undefined: all of them), and the pods it should find.
  const namespaces = job?.sd.length ? jobNamespaces(job, p.ns) : [p.ns];
  const podNamespaces = [...new Set([...(namespaces ?? []), p.ns])];
  const podLists = await Promise.all(podNamespaces.map((ns) => p.pods(ns)));
  const pods = podLists.flatMap((l) => l ?? []);

  // The job's namespaces against those of the pods it should scrape (Prometheus's, when none is known).
  const nsFindings: Finding[] = [];
  if (job && job.sd.length && namespaces) {
    const expected = pods.filter((pod) => p.ctx.stack.expect.expectedTargets.includes(pod.metadata?.labels?.[label] ?? '\u0000'));
    const appNamespaces = [...new Set(expected.length ? expected.map((pod) => pod.metadata?.namespace ?? '') : [p.ns])];
    const outside = appNamespaces.find((ns) => !namespaces.includes(ns));
    if (outside) {
      const sd = job.sd.find((x) => x.namespaces) ?? job.sd[0]!;
      nsFindings.push({
        cause: `Scrape job ${job.name} discovers pods only in ${namespaces.length === 1 ? 'namespace' : 'namespaces'} ${namespaces.join(', ') || '(none)'}, not in ${outside}`,
        fix: `Add ${outside} to namespaces.names of the job's kubernetes_sd_configs in ${configName(source)}, then restart Prometheus`,
        evidence: evidence([`kubernetes_sd_configs[${sd.index}].namespaces.names: [${(sd.namespaces ?? []).join(', ')}]`]),
        target: inConfig(source, ['scrape_configs', job.index, 'kubernetes_sd_configs', sd.index, 'namespaces', 'names']),
      });
    }
  }

  const discovers = (j: JobConfig, pod: V1Pod): boolean => {
    const ns = jobNamespaces(j, p.ns);
    return !ns || ns.includes(pod.metadata?.namespace ?? '');
  };
  const labelFindings: Finding[] = [];
  const stateFindings: Finding[] = [];
  const explained = new Set<string>();
  const checkPod = async (pod: V1Pod, value: string | undefined): Promise<void> => {
    const name = pod.metadata?.name ?? '';
    if (explained.has(name)) return;
    explained.add(name);
    // The pod-discovering jobs that see the pod; dropped when every one drops it.
    const seeing = podJobs.filter((j) => discovers(j, pod));
    const rules = seeing.map((j) => ({ job: j, rule: whyDropped(pod, j) }));
    const first = rules[0];
    if (first?.rule && rules.every((r) => r.rule)) {
      labelFindings.push(await droppedFinding(p, pod, first.job, first.rule, value, source));
      return;
    }
    const hasTarget = targets.some((t) => targetPodName(t) === name);
    if (!isReady(pod) && !hasTarget) {
      stateFindings.push(await explainPod(p, pod, { logOwner: `the logs of pod ${podRef(pod)}`, consequence: 'so Prometheus cannot scrape it' }));
    }
  };

  const keepRule = job?.relabel.find((r) => r.action === 'keep' && r.sourceLabels.length === 1 && r.sourceLabels[0] === `${LABEL_PREFIX}${sanitize(label)}`);
  for (const value of missing) {
    if (job && keepRule?.regex && !keepRule.regex.test(value)) {
      labelFindings.push({
        cause: `The keep rule of job ${job.name} (regex "${keepRule.regexText}") drops ${label}=${value}, an expected target`,
        fix: `Add ${value} to that regex in ${configName(source)} (e.g. ${keepRule.regexText}|${value}), then restart Prometheus`,
        evidence: evidence([ruleText(keepRule)]),
        target: inConfig(source, ['scrape_configs', job.index, 'relabel_configs', keepRule.index, 'regex']),
      });
      continue;
    }
    const labelled = pods.filter((pod) => pod.metadata?.labels?.[label] === value);
    const candidates = labelled.length ? labelled : namedAfter(pods, value, label);
    if (!candidates.length && podLists.every((l) => l !== undefined)) {
      labelFindings.push({
        cause: `No pod in ${podNamespaces.length === 1 ? 'namespace' : 'namespaces'} ${podNamespaces.join(', ')} carries ${label}=${value}`,
        fix: `Deploy ${value} (kubectl get pods -n ${p.ns} --show-labels shows what runs), or remove it from the expected-targets input`,
      });
    }
    for (const pod of candidates) await checkPod(pod, value);
  }
  if (!p.ctx.stack.expect.expectedTargets.length) {
    for (const pod of pods.filter((x) => x.metadata?.annotations?.['prometheus.io/scrape'] === 'true')) {
      if (!targets.some((t) => targetPodName(t) === pod.metadata?.name)) await checkPod(pod, undefined);
    }
  }
  return { findings: [...jobMissing, ...rbac, ...stale, ...nsFindings, ...labelFindings, ...stateFindings], pods };
}
