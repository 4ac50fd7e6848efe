/**
 * `prometheus-targets`: why the scrape job lacks a target or has one DOWN. The job is read from
 * Prometheus's running configuration, its discovery and relabel rules are replayed against the
 * pods it should find, and each DOWN target's last error is read against its pod.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { appOf } from '../../checks/prometheus-targets.js';
import { isReady } from '../../endpoint.js';
import type { Finding } from '../types.js';
import { configName, DEFAULT_INTERVAL, inConfig, jobNamespaces } from './config.js';
import { droppedFinding } from './dropped.js';
import { downFinding } from './down.js';
import { discoveryPending, notScrapedYet } from './pending.js';
import { explainPod, podRef } from './pod-state.js';
import { evidence, type Probe } from './probe.js';
import { rbacFindings } from './rbac.js';
import { LABEL_PREFIX, ruleText, whyDropped } from './relabel.js';
import { staleConfigFinding, storedJob } from './stale.js';
import { jobTargets, scraped, targetNamespace, targetPodName } from './target.js';

/** DOWN targets explained one by one; the rest are counted in a note. */
const MAX_DOWN_FINDINGS = 5;

/** The pods that look like app `app` though they do not carry app=<app>: named after it. */
function namedAfter(pods: readonly V1Pod[], app: string): V1Pod[] {
  return pods.filter((pod) => {
    const name = pod.metadata?.name ?? '';
    return pod.metadata?.labels?.app !== app && (name === app || name.startsWith(`${app}-`)) && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(name.slice(app.length + 1) || 'x');
  });
}

/** The findings of `prometheus-targets`, most telling first. */
export async function targetsFindings(p: Probe): Promise<void> {
  const { settings } = p.ctx;
  const jobName = settings.scrapeJob;
  const [config, allTargets, source] = await Promise.all([p.config(), p.targets(), p.configSource()]);
  const running = config?.jobs.find((j) => j.name === jobName);
  const targets = jobTargets(allTargets ?? [], jobName);
  const stored = running && source ? await storedJob(p, source, jobName) : undefined;
  // Discovery as the ConfigMap writes it when Prometheus runs the job through another mechanism.
  const job = running && !running.sd.length && stored?.job?.sd.length ? stored.job : running;

  const jobMissing: Finding[] = [];
  if (config && !job) {
    const names = config.jobs.map((j) => j.name);
    jobMissing.push({
      cause: `Prometheus's configuration has no scrape job ${jobName}${names.length ? ` (its jobs: ${names.join(', ')})` : ''}`,
      fix: `Add the job to ${source?.key ?? 'prometheus.yml'} in ${configName(source)} and restart Prometheus, or set the scrape-job input to one of its jobs`,
      target: inConfig(source, ['scrape_configs']),
    });
  }
  // The namespaces the job discovers pods in (undefined: all of them).
  const namespaces = job?.sd.length ? jobNamespaces(job, p.ns) : [settings.namespace];
  // Permissions matter for Kubernetes discovery; with the configuration unread, TaskFlow's is assumed.
  const rbac = job?.sd.length || !config ? await rbacFindings(p, job, namespaces) : [];

  // The ConfigMap edited since Prometheus loaded it.
  const stale = running && source && stored ? await staleConfigFinding(p, running, stored, source) : [];

  // The job's namespaces.
  const nsFindings: Finding[] = [];
  if (job && job.sd.length && namespaces && !namespaces.includes(settings.namespace)) {
    const sd = job.sd.find((s) => s.namespaces) ?? job.sd[0]!;
    nsFindings.push({
      cause: `Scrape job ${job.name} discovers pods only in ${namespaces.length === 1 ? 'namespace' : 'namespaces'} ${namespaces.join(', ') || '(none)'}, not in ${settings.namespace}`,
      fix: `Add ${settings.namespace} to namespaces.names of the job's kubernetes_sd_configs in ${configName(source)}, then restart Prometheus`,
      evidence: evidence([`kubernetes_sd_configs[${sd.index}].namespaces.names: [${(sd.namespaces ?? []).join(', ')}]`]),
      target: inConfig(source, ['scrape_configs', job.index, 'kubernetes_sd_configs', sd.index, 'namespaces', 'names']),
    });
  }

  // The pods the job should find: labels, annotations, then their state.
  const podNamespaces = [...new Set([...(namespaces ?? []), settings.namespace])];
  const podLists = await Promise.all(podNamespaces.map((ns) => p.pods(ns)));
  const pods = podLists.flatMap((l) => l ?? []);
  const inJobNs = (pod: V1Pod): boolean => Boolean(job?.sd.length) && (!namespaces || namespaces.includes(pod.metadata?.namespace ?? ''));
  const upApps = new Set(targets.filter((t) => t.health === 'up').map(appOf));
  const missing = settings.expectedTargets.filter((app) => !upApps.has(app));
  const labelFindings: Finding[] = [];
  const stateFindings: Finding[] = [];
  const explained = new Set<string>();
  const checkPod = async (pod: V1Pod, app: string | undefined): Promise<void> => {
    const name = pod.metadata?.name ?? '';
    if (explained.has(name)) return;
    explained.add(name);
    const role = job?.sd[0]?.role ?? 'pod';
    const rule = job && role === 'pod' && inJobNs(pod) ? whyDropped(pod, job) : undefined;
    if (rule && job) {
      labelFindings.push(await droppedFinding(p, pod, job, rule, app, source));
      return;
    }
    const hasTarget = targets.some((t) => targetPodName(t) === name);
    if (!isReady(pod) && !hasTarget) {
      stateFindings.push(await explainPod(p, pod, { logOwner: `the logs of pod ${podRef(pod)}`, consequence: 'so Prometheus cannot scrape it' }));
    }
  };

  const appRule = job?.relabel.find((r) => r.action === 'keep' && r.sourceLabels.length === 1 && r.sourceLabels[0] === `${LABEL_PREFIX}app`);
  for (const app of missing) {
    if (job && appRule?.regex && !appRule.regex.test(app)) {
      labelFindings.push({
        cause: `The keep rule of job ${job.name} (regex "${appRule.regexText}") drops app=${app}, an expected target`,
        fix: `Add ${app} to that regex in ${configName(source)} (e.g. ${appRule.regexText}|${app}), then restart Prometheus`,
        evidence: evidence([ruleText(appRule)]),
        target: inConfig(source, ['scrape_configs', job.index, 'relabel_configs', appRule.index, 'regex']),
      });
      continue;
    }
    const labelled = pods.filter((pod) => pod.metadata?.labels?.app === app);
    const candidates = labelled.length ? labelled : namedAfter(pods, app);
    if (!candidates.length && podLists.every((l) => l !== undefined)) {
      labelFindings.push({
        cause: `No pod in ${podNamespaces.length === 1 ? 'namespace' : 'namespaces'} ${podNamespaces.join(', ')} carries app=${app}`,
        fix: `Deploy ${app} (kubectl get pods -n ${settings.namespace} --show-labels shows what runs), or remove it from the expected-targets input`,
      });
    }
    for (const pod of candidates) await checkPod(pod, app);
  }
  if (!settings.expectedTargets.length) {
    for (const pod of pods.filter((x) => x.metadata?.annotations?.['prometheus.io/scrape'] === 'true')) {
      if (!targets.some((t) => targetPodName(t) === pod.metadata?.name)) await checkPod(pod, undefined);
    }
  }

  // DOWN targets: each one's last error read against its pod.
  const downFindings: Finding[] = [];
  const down = targets.filter((t) => t.health === 'down');
  for (const t of down.slice(0, MAX_DOWN_FINDINGS)) {
    const podName = targetPodName(t);
    const ns = targetNamespace(t, settings.namespace);
    const pod = podName ? (pods.find((x) => x.metadata?.name === podName && x.metadata.namespace === ns) ?? (await p.pods(ns))?.find((x) => x.metadata?.name === podName)) : undefined;
    downFindings.push(await downFinding(p, t, pod, job, source));
  }
  if (down.length > MAX_DOWN_FINDINGS) p.note(`${down.length - MAX_DOWN_FINDINGS} more DOWN targets not explained one by one`);

  // Targets discovered but not scraped yet.
  const waitFindings: Finding[] = [];
  const unscraped = targets.filter((t) => !scraped(t));
  if (unscraped.length && !down.length) {
    const interval = job?.scrapeInterval ?? unscraped[0]?.scrapeInterval ?? DEFAULT_INTERVAL;
    waitFindings.push(notScrapedYet(p, interval, unscraped.map(appOf)));
  }

  const found = [...jobMissing, ...rbac, ...stale, ...nsFindings, ...labelFindings, ...stateFindings, ...downFindings, ...waitFindings];
  // Nothing wrong was found and nothing is discovered yet: Prometheus may just have started.
  const pending = !found.length && !targets.length ? await discoveryPending(p, job?.scrapeInterval ?? DEFAULT_INTERVAL) : undefined;
  p.findings.push(...found, ...(pending ? [pending] : []));
}
