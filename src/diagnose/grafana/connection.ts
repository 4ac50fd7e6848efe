/**
 * Why Grafana cannot reach Prometheus (datasource health and query errors): the datasource URL,
 * its Service, port and endpoints, then the seed guide's `nslookup` and `wget` from the Grafana pod.
 */
import type { ExecResult } from '../../cluster.js';
import { objectText } from '../../checks/provisioning.js';
import { sameUrl, serviceTargetOf } from '../../datasource.js';
import { trimTrailingSlashes } from '../../http.js';
import { isRunning, MAX_EVIDENCE, type Probe } from './probe.js';
import { serviceLink, type UrlSite } from './service.js';
import { applyText, chooseEntry, entryTarget, parseContents, routeContent, type Entry } from './sources.js';
import { clip, firstLine, hostOf, withoutCredentials } from './text.js';

/** Seconds `wget` may take inside the Grafana pod. */
const WGET_TIMEOUT_S = 5;

function urlSite(entry: Entry | undefined): UrlSite {
  return entry ? { object: entry.object, target: entryTarget(entry, 'url') } : {};
}

/** The URL check of `datasource-configmap`: the expected URL, then its Service and port. */
export async function configUrlLink(p: Probe, entry: Entry): Promise<void> {
  const expected = p.stack.expect.datasourceUrl;
  if (expected && !sameUrl(entry.ds.url, expected, p.ns)) {
    const url = withoutCredentials(entry.ds.url);
    p.add({
      cause: `datasource "${entry.ds.name}" in ${objectText(entry.object)} has url ${url || '(none)'}, not ${expected}`,
      fix: `${p.profile.editDatasource(p.stack, entry.object, `Set \`url: ${expected}\``)}${p.stack.expect.datasourceUrlGiven ? '' : ` Or set the datasource-url input if ${url} is intended.`}`,
      target: entryTarget(entry, 'url'),
    });
    return;
  }
  await serviceLink(p, entry.ds.url, urlSite(entry));
}

/** The datasource URL Grafana uses, and where it is provisioned. */
async function datasourceUrl(p: Probe, name: string | undefined, message: string): Promise<{ url?: string; entry?: Entry; grafanaUrl?: string }> {
  let grafanaUrl: string | undefined;
  try {
    const list = await p.view.datasources();
    grafanaUrl = (name ? list.find((d) => d.name === name) : list.find((d) => d.type === 'prometheus' && d.isDefault) ?? list.find((d) => d.type === 'prometheus'))?.url || undefined;
  } catch {
    // Grafana's list is the best source but not the only one.
  }
  const { contents } = await routeContent(p);
  const entry = chooseEntry(parseContents(contents).entries, name ?? p.wanted);
  const fromMessage = /"(https?:\/\/[^"\s]+?)\/api\/v1\/[^"\s]*"/.exec(message)?.[1];
  return { url: grafanaUrl ?? entry?.ds.url ?? fromMessage, ...(entry ? { entry } : {}), ...(grafanaUrl ? { grafanaUrl } : {}) };
}

/** The seed guide's probes from the Grafana pod: `nslookup <host>`, `wget <url>/api/v1/query?query=up`. */
async function fromGrafanaPod(p: Probe, url: string): Promise<{ pod?: string; lookup?: ExecResult; fetch?: ExecResult; lookupLine?: string; fetchLine?: string }> {
  const pod = await p.grafanaPod();
  if (!pod?.metadata?.name) return {};
  const podName = pod.metadata.name;
  if (!isRunning(pod, p.container)) {
    p.note(`the datasource url not tested from the Grafana pod: the ${p.container} container of pod ${podName} does not run`);
    return {};
  }
  const safe = trimTrailingSlashes(withoutCredentials(url));
  const host = hostOf(safe);
  if (!host) {
    p.note(`the datasource url ${safe} has no host name: it was not tested from the Grafana pod`);
    return {};
  }
  const what = 'the datasource url not tested from the Grafana pod (nslookup, wget)';
  const lookup = await p.exec(what, pod, p.container, ['nslookup', host]);
  if (!lookup) return { pod: podName };
  const fetch = await p.exec(what, pod, p.container, ['wget', '-q', '-T', String(WGET_TIMEOUT_S), '-O', '-', `${safe}/api/v1/query?query=up`]);
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

/**
 * `grafana-datasource-health` and `grafana-query` errors: why Grafana cannot reach Prometheus.
 * `name` is the datasource Grafana tested; `message` is Grafana's (or Prometheus's) own error.
 */
export async function connectionChain(p: Probe, name: string | undefined, message: string): Promise<void> {
  const { url, entry, grafanaUrl } = await datasourceUrl(p, name, message);
  if (!url) {
    p.note("the datasource url is unknown (Grafana's list and the provisioning objects could not be read): the connection was not probed");
    return;
  }
  const site = urlSite(entry);
  const expected = p.stack.expect.datasourceUrl;
  if (!/^https?:\/\/[^/]/i.test(url)) {
    p.add({
      cause: `the datasource url ${withoutCredentials(url)} does not start with http:// or https://`,
      fix: p.profile.editDatasource(p.stack, entry?.object, `Set \`url: ${expected ?? 'http://<prometheus-service>.<namespace>.svc:9090'}\``),
      ...(site.target ? { target: site.target } : {}),
    });
    return;
  }
  const stale = grafanaUrl && entry && !sameUrl(grafanaUrl, entry.ds.url, p.ns) ? `Grafana uses url ${withoutCredentials(grafanaUrl)}; ${objectText(entry.object)} now says ${withoutCredentials(entry.ds.url)}` : undefined;
  const before = p.findings.length;
  const broken = await serviceLink(p, url, site);
  const probe = await fromGrafanaPod(p, url);
  const seen = [probe.lookupLine, probe.fetchLine, stale].filter((e): e is string => Boolean(e));
  if (broken) {
    const f = p.findings[before];
    if (f) p.findings[before] = { ...f, evidence: [...(f.evidence ?? []), ...seen].slice(0, MAX_EVIDENCE) };
    return;
  }
  const safe = withoutCredentials(url);
  const host = hostOf(safe) ?? safe;
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
            fix: p.profile.editDatasource(p.stack, entry?.object, `Point the url at the Prometheus Service (\`url: ${expected ?? 'its in-cluster URL'}\`)`),
            evidence: seen,
            ...(site.target ? { target: site.target } : {}),
          },
    );
    return;
  }
  if (probe.fetch && probe.fetch.exitCode !== 0) {
    const text = `${probe.fetch.stderr}\n${probe.fetch.stdout}`;
    const prom = p.stack.prometheus.ok ? p.stack.prometheus.value.workload : undefined;
    const fix = /refused/i.test(text)
      ? `Nothing listens there: check the Service's targetPort against the Prometheus container port and Prometheus's --web.listen-address.`
      : /timed out|timeout/i.test(text)
        ? 'The connection times out: check NetworkPolicies between the Grafana and Prometheus pods (ingress to Prometheus, egress from Grafana).'
        : `Prometheus answers with an error: check its logs (kubectl logs -n ${prom?.namespace ?? '<namespace>'} -l ${prom?.selector ?? 'app.kubernetes.io/name=prometheus'}) and any path prefix (--web.route-prefix) the url must carry.`;
    p.add({ cause: `Prometheus does not answer ${safe} from pod ${probe.pod}: ${firstLine(probe.fetch.stderr || probe.fetch.stdout) || `exit code ${probe.fetch.exitCode}`}`, fix, evidence: seen });
    return;
  }
  if (stale) {
    p.add({
      cause: `Grafana still uses the datasource url ${withoutCredentials(grafanaUrl ?? '')}, not the ${withoutCredentials(entry?.ds.url ?? '')} that ${entry ? objectText(entry.object) : 'the provisioning object'} now gives`,
      fix: `Grafana reads provisioning files at start-up${p.sidecar ? ' or on a reload' : ''}: ${applyText(p)}.`,
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
