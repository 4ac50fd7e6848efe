/** What a target of Prometheus tells: its scrape job, pod, namespace and port, and whether it was scraped. */
import type { Target } from '../../prometheus.js';

/** The targets of a scrape pool or `job` label value, as prometheus-targets picks them (`''`: every target). */
export function jobTargets(all: readonly Target[], job: string): Target[] {
  return job ? all.filter((t) => t.scrapePool === job || t.job === job) : [...all];
}

export function targetPodName(t: Target): string | undefined {
  return t.labels.pod ?? t.discoveredLabels.__meta_kubernetes_pod_name;
}

export function targetNamespace(t: Target, fallback: string): string {
  return t.labels.namespace ?? t.discoveredLabels.__meta_kubernetes_namespace ?? fallback;
}

export function targetPort(t: Target): string | undefined {
  const address = /^[a-z]+:\/\/([^/]+)/.exec(t.scrapeUrl)?.[1] ?? t.discoveredLabels.__address__ ?? t.labels.instance ?? '';
  return /:(\d+)$/.exec(address)?.[1];
}

/** Scraped at least once: before the first scrape, `lastScrape` is the zero time (`0001-01-01T00:00:00Z`). */
export function scraped(t: Target): boolean {
  return t.health !== 'unknown' && Boolean(t.lastScrape) && !t.lastScrape.startsWith('0001-');
}
