/** Too early to tell: Prometheus started moments ago, or has not scraped its targets yet. */
import type { Finding } from '../types.js';
import { DEFAULT_INTERVAL, durationMs, formatDuration } from './config.js';
import type { Probe } from './probe.js';

/** Time Prometheus's discovery takes to hand its first targets to the scrapers (its target manager updates every 5 s). */
const DISCOVERY_SETTLE_MS = 10_000;

/** Prometheus started so recently that its discovery and first scrapes may still be ahead. */
export async function discoveryPending(p: Probe, interval: string): Promise<Finding | undefined> {
  const pod = await p.prometheusPod();
  const started = pod?.status?.containerStatuses?.map((c) => c.state?.running?.startedAt).find(Boolean);
  if (!started) return undefined;
  const age = Date.now() - new Date(started).getTime();
  const settle = DISCOVERY_SETTLE_MS + 2 * (durationMs(interval) || durationMs(DEFAULT_INTERVAL));
  if (age < 0 || age >= settle) return undefined;
  return {
    cause: `Prometheus started ${Math.floor(age / 1000)} s ago and has not discovered its targets yet: the first samples are expected within ${Math.ceil((settle - age) / 1000)} s (scrape_interval ${interval})`,
    fix: `Raise the wait input to cover Prometheus's start-up (e.g. wait: ${formatDuration(settle)}): a stack deployed just now needs its first discovery and one or two scrape intervals`,
  };
}

export function notScrapedYet(p: Probe, interval: string, apps: readonly string[] = []): Finding {
  const ms = durationMs(interval) || durationMs(DEFAULT_INTERVAL);
  const twice = 2 * ms;
  const waitMs = p.ctx.settings.waitMs;
  const who = apps.length ? ` ${[...new Set(apps.filter(Boolean))].join(', ')}` : '';
  return {
    cause: `Prometheus has not scraped${who} yet: the first samples are expected in ${Math.ceil(ms / 1000)} s (scrape_interval ${interval})`,
    fix:
      waitMs < twice
        ? `Raise the wait input to at least 2 × scrape_interval (e.g. wait: ${formatDuration(twice)})`
        : `The wait input (${formatDuration(waitMs)}) already covers 2 × scrape_interval: the targets were discovered only recently; check that their pods are not restarting (kubectl get pods -n ${p.ns})`,
  };
}
