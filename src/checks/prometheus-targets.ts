/** `prometheus-targets`: the scrape job has enough UP targets, one for every expected app. */
import type { Target } from '../prometheus.js';
import type { TargetInfo } from '../types.js';
import { fail, pass, type Check } from './check.js';
import { PROMETHEUS_NEEDS } from './prometheus-api.js';

/** The value of the pod's `app` label for a target (relabelled, or as discovered). */
export function appOf(t: Target): string {
  return t.labels.app ?? t.discoveredLabels.__meta_kubernetes_pod_label_app ?? t.labels.pod ?? t.labels.instance ?? '';
}

function info(t: Target): TargetInfo {
  return { app: appOf(t), instance: t.labels.instance ?? '', health: t.health, lastError: t.lastError, scrapeUrl: t.scrapeUrl };
}

export const prometheusTargets: Check = {
  id: 'prometheus-targets',
  title: 'Scrape targets UP',
  needs: PROMETHEUS_NEEDS,
  async run({ settings, prometheus, signal }) {
    const job = settings.scrapeJob;
    const all = await prometheus.activeTargets(signal);
    const targets = all.filter((t) => t.scrapePool === job || t.job === job);
    const up = targets.filter((t) => t.health === 'up');
    const down = targets.filter((t) => t.health !== 'up').map(info);
    const missing = settings.expectedTargets.filter((app) => !up.some((t) => appOf(t) === app));
    const details = { job, up: up.length, total: targets.length, upApps: [...new Set(up.map(appOf))] };
    if (!targets.length) {
      const jobs = [...new Set(all.map((t) => t.scrapePool))];
      return fail(
        `job ${job} has no active targets${jobs.length ? ` (Prometheus scrapes: ${jobs.join(', ')})` : ' (Prometheus has no active target at all)'}`,
        `Prometheus discovered no pod for ${job}. Check that its service account may list and watch pods (kubectl apply -f 16-prometheus-rbac.yaml), that the job's kubernetes_sd_configs names namespace ${settings.namespace}, and that the pods carry the app label its relabel keep rule expects.`,
        { details },
      );
    }
    const problems: string[] = [];
    if (up.length < settings.minTargetsUp) problems.push(`${up.length} of ${targets.length} target${targets.length === 1 ? '' : 's'} UP (at least ${settings.minTargetsUp} required)`);
    if (missing.length) problems.push(`no UP target for ${missing.join(', ')}`);
    if (problems.length) {
      const firstError = down.find((t) => t.lastError)?.lastError;
      return fail(
        `job ${job}: ${problems.join('; ')}${down.length ? `; DOWN: ${down.map((t) => `${t.app || t.instance}${t.lastError ? ` (${t.lastError})` : ''}`).join(', ')}` : ''}`,
        down.length
          ? `Prometheus cannot scrape ${down.map((t) => t.app || t.instance).join(', ')}${firstError ? ` (${firstError})` : ''}: check that those pods are Running and serve /metrics on the annotated port. A stack deployed seconds ago needs one or two scrape intervals: raise the wait input.`
          : `Prometheus does not discover ${missing.join(', ')}: check that the pods exist, are Running, and carry app=${missing[0]} (kubectl get pods -n ${settings.namespace} --show-labels).`,
        { details, downTargets: down },
      );
    }
    return pass(`job ${job}: ${up.length} of ${targets.length} target${targets.length === 1 ? '' : 's'} UP${details.upApps.length ? ` (${details.upApps.join(', ')})` : ''}`, {
      details,
      downTargets: down.length ? down : undefined,
    });
  },
};
