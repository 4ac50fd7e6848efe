/**
 * `prometheus-targets`: the scrape job has enough UP targets, one for every expected value of the
 * target label. The job is a scrape pool (`serviceMonitor/monitoring/node-exporter/0`, as the
 * Prometheus Operator names them) or a `job` label value. With no job, every scrape pool of the
 * Prometheus is looked at: a pool with DOWN targets, or with none UP, warns; no target at all fails.
 * DOWN targets matched by `allow-down-targets` (on their pool, job or instance) are listed, marked
 * allowed, and counted for nothing.
 */
import type { Target } from '../prometheus.js';
import { byText, globMatches } from '../text.js';
import type { TargetInfo } from '../types.js';
import { profileOf } from '../stack/profiles/index.js';
import { fail, pass, warn, type Check } from './check.js';
import { PROMETHEUS_NEEDS } from './prometheus-api.js';

/** The labels that name a target, in the order they are tried when `target-label` is empty. */
export const TARGET_LABELS = ['app', 'app.kubernetes.io/name', 'service', 'job'] as const;

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** The value of `label` for a target: relabelled onto it, else the pod's (or Service's) label as discovered. */
export function labelValue(t: Target, label: string): string | undefined {
  const s = sanitize(label);
  return t.labels[label] ?? t.discoveredLabels[`__meta_kubernetes_pod_label_${s}`] ?? t.discoveredLabels[`__meta_kubernetes_service_label_${s}`];
}

/** The target label: the input, else the first of TARGET_LABELS that these targets carry. */
export function targetLabelOf(targets: readonly Target[], given: string | undefined): string {
  if (given) return given;
  return TARGET_LABELS.find((l) => targets.some((t) => labelValue(t, l) !== undefined)) ?? 'job';
}

/** What names a target in messages: the target label's value, else its pod or instance. */
export function nameOf(t: Target, label: string): string {
  return (label === 'job' ? undefined : labelValue(t, label)) ?? t.labels.pod ?? t.labels.instance ?? '';
}

function info(t: Target, label: string, allowed = false): TargetInfo {
  return { app: nameOf(t, label), instance: t.labels.instance ?? '', health: t.health, lastError: t.lastError, scrapeUrl: t.scrapeUrl, pool: t.scrapePool, job: t.job, ...(allowed ? { allowed: true as const } : {}) };
}

/** A DOWN target one of `globs` allows: on its scrape pool, its job, or its instance. */
export function allowedDown(t: Target, globs: readonly string[]): boolean {
  if (t.health === 'up' || !globs.length) return false;
  const instance = t.labels.instance ?? '';
  return globs.some((g) => globMatches(g, t.scrapePool) || globMatches(g, t.job) || (instance !== '' && globMatches(g, instance)));
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const prometheusTargets: Check = {
  id: 'prometheus-targets',
  title: 'Scrape targets UP',
  needs: PROMETHEUS_NEEDS,
  async run({ settings, stack, view }) {
    const { scrapeJob: job, expectedTargets, minTargetsUp } = stack.expect;
    const allow = settings.allowDownTargets;
    // A pool Prometheus filtered on is all that was read; otherwise every active target, of which
    // the job's are those of the pool named `job`, else those whose job label is `job`.
    const read = await view.targets(job);
    const all = read.targets.filter((t) => !allowedDown(t, allow));
    const excused = read.targets.filter((t) => allowedDown(t, allow));
    const inPool = job && !read.pool ? all.filter((t) => t.scrapePool === job) : [];
    const targets = !job || read.pool ? all : inPool.length ? inPool : all.filter((t) => t.job === job);
    const label = targetLabelOf(targets.length ? targets : excused, stack.expect.targetLabel);
    const up = targets.filter((t) => t.health === 'up');
    // The allowed ones of this job (or of every pool) are listed after the others, marked.
    const mine = (t: Target): boolean => !job || read.pool !== undefined || t.scrapePool === job || (!inPool.length && t.job === job);
    const allowedList = excused.filter(mine).map((t) => info(t, label, true));
    const down = [...targets.filter((t) => t.health !== 'up').map((t) => info(t, label)), ...allowedList];
    const allowedText = allowedList.length ? `; allowed DOWN (allow-down-targets): ${allowedList.slice(0, 10).map((t) => t.app || t.instance).join(', ')}${allowedList.length > 10 ? `, … ${allowedList.length - 10} more` : ''}` : '';
    const missing = expectedTargets.filter((v) => !up.some((t) => labelValue(t, label) === v));
    const scope = job ? `job ${job}` : 'Prometheus';
    const details = { job: job || '(every scrape pool)', targetLabel: label, up: up.length, total: targets.length, upValues: [...new Set(up.map((t) => nameOf(t, label)))].sort(byText) };
    if (!targets.length && !allowedList.length) {
      const pools = [...new Set(all.map((t) => t.scrapePool))];
      const site = stack.prometheus.ok ? stack.prometheus.value : undefined;
      const ns = site?.workload.namespace ?? '';
      const sa = site?.serviceAccount ?? 'default';
      const operator = site?.operator ? ` Check that the ServiceMonitor or PodMonitor is selected by Prometheus ${site.operator.namespace}/${site.operator.name} and matches a Service port by name.` : '';
      return fail(
        job ? `job ${job} has no active targets${pools.length ? ` (Prometheus scrapes: ${pools.join(', ')})` : ' (Prometheus has no active target at all)'}` : 'Prometheus has no active target at all',
        `Prometheus discovered nothing to scrape${job ? ` for ${job}` : ''}: check that its service account ${sa} may list and watch pods (and services, endpoints) in namespace ${ns} and the monitored namespaces (${profileOf(stack.kind).prometheusRbac(stack, ns, sa)}), and that the job's service discovery and relabel rules keep the pods.${operator}`,
        { code: 'targets.none', job, pools },
        { details },
      );
    }
    const problems: string[] = [];
    if (up.length < minTargetsUp) problems.push(`${up.length} of ${plural(targets.length, 'target')} UP (at least ${minTargetsUp} required)`);
    if (missing.length) problems.push(`no UP target for ${missing.join(', ')}`);
    const counted = down.filter((t) => !t.allowed);
    const downText = counted.length ? `; DOWN: ${counted.slice(0, 10).map((t) => `${t.app || t.instance}${t.lastError ? ` (${t.lastError})` : ''}`).join(', ')}${counted.length > 10 ? `, … ${counted.length - 10} more` : ''}` : '';
    if (problems.length) {
      const firstError = counted.find((t) => t.lastError)?.lastError;
      return fail(
        `${scope}: ${problems.join('; ')}${downText}${allowedText}`,
        counted.length
          ? `Prometheus cannot scrape ${counted.slice(0, 5).map((t) => t.app || t.instance).join(', ')}${firstError ? ` (${firstError})` : ''}: check that those pods are Running and serve /metrics on the scraped port. A stack deployed seconds ago needs one or two scrape intervals: raise the wait input.`
          : `Prometheus does not discover ${missing.join(', ')}: check that the pods exist, are Running, and carry the label ${label}=${missing[0]} (the target-label input names another label).`,
        missing.length ? { code: 'targets.expected-missing', job, missing, label } : { code: 'targets.too-few', job, up: up.length, total: targets.length },
        { details, downTargets: down },
      );
    }
    if (!job) {
      const pools = new Map<string, Target[]>();
      for (const t of all) pools.set(t.scrapePool, [...(pools.get(t.scrapePool) ?? []), t]);
      const dead = [...pools].filter(([, ts]) => !ts.some((t) => t.health === 'up')).map(([p]) => p);
      const degraded = [...pools].filter(([, ts]) => ts.some((t) => t.health === 'up') && ts.some((t) => t.health !== 'up')).map(([p]) => p);
      if (dead.length || degraded.length) {
        const parts = [...(dead.length ? [`no UP target in ${dead.join(', ')}`] : []), ...(degraded.length ? [`some targets DOWN in ${degraded.join(', ')}`] : [])];
        return warn(
          `${up.length} of ${plural(targets.length, 'target')} UP in ${plural(pools.size, 'scrape pool')}; ${parts.join('; ')}${downText}${allowedText}`,
          'Look at these pools on Prometheus\'s Targets page; set scrape-job to the pool your deploy must keep UP to make it a gate, or allow known-down targets.',
          dead.length ? { code: 'targets.pools-down', pools: dead } : { code: 'targets.pools-degraded', pools: degraded },
          { details: { ...details, pools: pools.size }, downTargets: down },
        );
      }
      return pass(`${up.length} of ${plural(targets.length, 'target')} UP in ${plural(pools.size, 'scrape pool')}${allowedText}`, {
        details: { ...details, pools: pools.size },
        downTargets: allowedList.length ? allowedList : undefined,
      });
    }
    return pass(`${scope}: ${up.length} of ${plural(targets.length, 'target')} UP${details.upValues.length ? ` (${details.upValues.join(', ')})` : ''}${allowedText}`, {
      details,
      downTargets: down.length ? down : undefined,
    });
  },
};
