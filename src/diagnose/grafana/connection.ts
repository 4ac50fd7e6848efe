/**
 * Why Grafana cannot reach Prometheus (datasource health and query errors): the datasource URL,
 * its Service, port and endpoints, then the seed guide's `nslookup` and `wget` from the Grafana pod.
 */
import type { ExecResult } from '../../cluster.js';
import { sameUrl, serviceTargetOf } from '../../datasource.js';
import { trimTrailingSlashes } from '../../http.js';
import type { CheckResult } from '../../types.js';
import { entryTarget, findEntry, type DatasourceEntry } from './configmap.js';
import { MAX_EVIDENCE, REFUSED, type Probe } from './probe.js';
import { serviceLink } from './service.js';
import { clip, configMapRef, firstLine, hostOf, refText, restartCommand, withoutCredentials } from './text.js';

/** Seconds `wget` may take inside the Grafana pod. */
const WGET_TIMEOUT_S = 5;

/** The URL check of `datasource-configmap`: the expected URL, then its Service and port. */
export async function configMapUrlLink(p: Probe, entry: DatasourceEntry): Promise<void> {
  const s = p.settings;
  const ref = configMapRef(s);
  if (!sameUrl(entry.ds.url, s.datasourceUrl, p.ns)) {
    p.add({
      cause: `datasource "${entry.ds.name}" in ${refText(ref)} has url ${withoutCredentials(entry.ds.url) || '(none)'}, not ${s.datasourceUrl}`,
      fix: `Set url: ${s.datasourceUrl} (or set the datasource-url input if ${withoutCredentials(entry.ds.url)} is intended), then ${restartCommand(p.ns)}.`,
      target: entryTarget(s, entry, 'url'),
    });
    return;
  }
  await serviceLink(p, entry.ds.url, entryTarget(s, entry, 'url'));
}

/** The datasource URL Grafana uses, and where it is in the ConfigMap. */
async function datasourceUrl(p: Probe, result: CheckResult): Promise<{ url?: string; entry?: DatasourceEntry; grafanaUrl?: string }> {
  const s = p.settings;
  let grafanaUrl: string | undefined;
  try {
    grafanaUrl = (await p.ctx.grafana.datasources(p.signal)).find((d) => d.name === s.datasourceName)?.url || undefined;
  } catch {
    // Grafana's list is the best source but not the only one.
  }
  const cm = await p.read(`${refText(configMapRef(s))} not read`, 'get configmaps', () => p.ctx.cluster.readConfigMap(p.ns, s.datasourceConfigmap, p.signal));
  const entry = cm && cm !== REFUSED ? findEntry(cm.data ?? {}, s.datasourceName) : undefined;
  const fromMessage = /"(https?:\/\/[^"\s]+?)\/api\/v1\/[^"\s]*"/.exec(result.summary)?.[1];
  return { url: grafanaUrl ?? entry?.ds.url ?? fromMessage, entry, grafanaUrl };
}

/** The seed guide's probes from the Grafana pod: `nslookup <host>`, `wget <url>/api/v1/query?query=up`. */
async function fromGrafanaPod(p: Probe, url: string): Promise<{ pod?: string; lookup?: ExecResult; fetch?: ExecResult; lookupLine?: string; fetchLine?: string }> {
  const pod = await p.grafanaPod();
  if (!pod?.metadata?.name) return {};
  const podName = pod.metadata.name;
  if (pod.status?.phase !== 'Running') {
    p.note(`the datasource url not tested from the Grafana pod: pod ${podName} is ${pod.status?.phase ?? 'not running'}`);
    return {};
  }
  const containers = pod.spec?.containers ?? [];
  const container = (containers.find((c) => c.name === 'grafana') ?? containers[0])?.name ?? 'grafana';
  const safe = trimTrailingSlashes(withoutCredentials(url));
  const host = hostOf(safe);
  if (!host) {
    p.note(`the datasource url ${safe} has no host name: it was not tested from the Grafana pod`);
    return {};
  }
  const what = 'the datasource url not tested from the Grafana pod (nslookup, wget)';
  const lookup = await p.exec(what, podName, container, ['nslookup', host]);
  if (!lookup) return { pod: podName };
  const fetch = await p.exec(what, podName, container, ['wget', '-q', '-T', String(WGET_TIMEOUT_S), '-O', '-', `${safe}/api/v1/query?query=up`]);
  return {
    pod: podName,
    lookup,
    lookupLine: `nslookup ${host} (pod ${podName}): ${nslookupLine(lookup)}`,
    ...(fetch ? { fetch, fetchLine: `wget ${safe}/api/v1/query?query=up (pod ${podName}): ${fetch.exitCode === 0 ? clip(firstLine(fetch.stdout), 160) || 'empty answer' : firstLine(fetch.stderr || fetch.stdout) || `exit code ${fetch.exitCode}`}` } : {}),
  };
}

function nslookupFailed(r: ExecResult): boolean {
  return r.exitCode !== 0 || /can't find|NXDOMAIN|server can't|connection timed out|no servers could be reached/i.test(r.stdout + r.stderr);
}

/** The telling line of nslookup's output: its failure, else the address it found. */
function nslookupLine(r: ExecResult): string {
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter(Boolean);
  if (nslookupFailed(r)) return clip(lines.find((l) => /can't|NXDOMAIN|timed out|not found|error|no servers/i.test(l)) ?? lines[0] ?? `exit code ${r.exitCode}`, 200);
  const name = lines.findIndex((l) => /^Name:/i.test(l));
  const address = name >= 0 ? lines.slice(name + 1).find((l) => /^Address/i.test(l)) : undefined;
  return clip(address ?? lines[0] ?? 'resolved', 200);
}

/** `grafana-datasource-health` and `grafana-query` errors: why Grafana cannot reach Prometheus. */
export async function connectionChain(p: Probe, result: CheckResult): Promise<void> {
  const s = p.settings;
  const { url, entry, grafanaUrl } = await datasourceUrl(p, result);
  if (!url) {
    p.note(`the datasource url is unknown (Grafana's list and ${refText(configMapRef(s))} could not be read): the connection was not probed`);
    return;
  }
  const urlTarget = entry ? entryTarget(s, entry, 'url') : undefined;
  if (!/^https?:\/\/[^/]/i.test(url)) {
    p.add({
      cause: `the datasource url ${withoutCredentials(url)} does not start with http:// or https://`,
      fix: `Set url: ${s.datasourceUrl} in ${refText(configMapRef(s))}, then ${restartCommand(p.ns)}.`,
      ...(urlTarget ? { target: urlTarget } : {}),
    });
    return;
  }
  const stale = grafanaUrl && entry && !sameUrl(grafanaUrl, entry.ds.url, p.ns) ? `Grafana uses url ${withoutCredentials(grafanaUrl)}; ${refText(configMapRef(s))} now says ${withoutCredentials(entry.ds.url)}` : undefined;
  const before = p.findings.length;
  const broken = await serviceLink(p, url, urlTarget);
  const probe = await fromGrafanaPod(p, url);
  const seen = [probe.lookupLine, probe.fetchLine, stale].filter((e): e is string => Boolean(e));
  if (broken) {
    const f = p.findings[before];
    if (f) p.findings[before] = { ...f, evidence: [...(f.evidence ?? []), ...seen].slice(0, MAX_EVIDENCE) };
    return;
  }
  const safe = withoutCredentials(url);
  const host = hostOf(safe) ?? safe;
  const restart = restartCommand(p.ns);
  if (probe.lookup && nslookupFailed(probe.lookup)) {
    const t = serviceTargetOf(url, p.ns);
    p.add(
      t
        ? {
            cause: `pod ${probe.pod} cannot resolve ${host}, although Service ${t.namespace}/${t.service} exists`,
            fix: `Cluster DNS does not answer the Grafana pod: check CoreDNS (kubectl get pods -n kube-system -l k8s-app=kube-dns), NetworkPolicies that block egress to port 53, and the pod's dnsPolicy.`,
            evidence: seen,
          }
        : {
            cause: `pod ${probe.pod} cannot resolve ${host}, the datasource url's host`,
            fix: `Point the url at the Prometheus Service: url: ${s.datasourceUrl}, then ${restart}.`,
            evidence: seen,
            ...(urlTarget ? { target: urlTarget } : {}),
          },
    );
    return;
  }
  if (probe.fetch && probe.fetch.exitCode !== 0) {
    const text = `${probe.fetch.stderr}\n${probe.fetch.stdout}`;
    const fix = /refused/i.test(text)
      ? `Nothing listens there: check the Service's targetPort against the Prometheus container port and Prometheus's --web.listen-address.`
      : /timed out|timeout/i.test(text)
        ? 'The connection times out: check NetworkPolicies between the Grafana and Prometheus pods (ingress to Prometheus, egress from Grafana).'
        : `Prometheus answers with an error: check its logs (kubectl logs -n ${p.ns} -l ${s.prometheusSelector}) and any path prefix (--web.route-prefix) the url must carry.`;
    p.add({ cause: `Prometheus does not answer ${safe} from pod ${probe.pod}: ${firstLine(probe.fetch.stderr || probe.fetch.stdout) || `exit code ${probe.fetch.exitCode}`}`, fix, evidence: seen });
    return;
  }
  if (stale) {
    p.add({
      cause: `Grafana still uses the datasource url ${withoutCredentials(grafanaUrl ?? '')}, not the ${withoutCredentials(entry?.ds.url ?? '')} that ${refText(configMapRef(s))} now gives`,
      fix: `Grafana reads provisioning files only at start-up: ${restart}.`,
      evidence: seen,
    });
    return;
  }
  if (probe.fetch) {
    p.add({
      cause: `Prometheus answers ${safe} from pod ${probe.pod}, yet Grafana's request to it fails`,
      fix: "The network path works: check the datasource's other settings in Grafana (authentication, TLS, HTTP method, a custom query path), an HTTP_PROXY/HTTPS_PROXY in Grafana's environment, and run the check again in case the failure was transient.",
      evidence: seen,
    });
  }
}

/** A connection-type error from Grafana's request to Prometheus (as opposed to a PromQL error). */
export function connectionError(summary: string): boolean {
  return /connection refused|no such host|lookup |dial tcp|i\/o timeout|timeout|deadline|EOF|connection reset|Bad Gateway|Service Unavailable|HTTP 502|HTTP 503|HTTP 504|no route to host|network is unreachable|certificate/i.test(summary);
}
