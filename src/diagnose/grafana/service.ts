/**
 * The Service a datasource URL names: it exists, exposes the URL's port, has ready endpoints, and
 * forwards to a port the Prometheus pod declares. Fixes to the URL go where the stack keeps it.
 */
import type { V1Service } from '@kubernetes/client-node';
import { describePod } from '../../checks/pod-check.js';
import { serviceTargetOf } from '../../datasource.js';
import { isReady } from '../../endpoint.js';
import type { SourceObject } from '../../stack/types.js';
import type { ObjectPath, ObjectRef } from '../types.js';
import { REFUSED, type Probe } from './probe.js';
import { portsText, refText, selectorText, withoutCredentials } from './text.js';

/** Where the datasource's url is: its object (for the stack's way of editing it) and its line. */
export interface UrlSite {
  readonly object?: SourceObject;
  readonly target?: ObjectPath;
}

/** The expected URL as hints give it (the Prometheus Service discovery found). */
function expectedUrl(p: Probe): string | undefined {
  return p.stack.expect.datasourceUrl;
}

/**
 * The Service the URL names exists, exposes the port, and has ready endpoints whose pods declare
 * the target port. Adds a finding and returns true when a link is broken.
 */
export async function serviceLink(p: Probe, url: string, site: UrlSite): Promise<boolean> {
  const t = serviceTargetOf(url, p.ns);
  if (!t) {
    p.note(`the datasource url ${withoutCredentials(url)} does not name a cluster Service: the Service, its port and endpoints were not checked`);
    return false;
  }
  const host = new URL(url).hostname;
  const svcRef: ObjectRef = { kind: 'Service', namespace: t.namespace, name: t.service };
  const svc = await p.read(`${refText(svcRef)} not read`, 'get services', () => p.view.service(t.namespace, t.service));
  if (svc === REFUSED) return false;
  const wanted = expectedUrl(p);
  const expected = wanted ? serviceTargetOf(wanted, p.ns) : undefined;
  const edit = (change: string) => p.profile.editDatasource(p.stack, site.object, change);
  if (!svc) {
    const isExpected = expected && expected.service === t.service && expected.namespace === t.namespace;
    let evidence: string[] = [`kubectl get svc ${t.service} -n ${t.namespace}: NotFound`];
    if (!isExpected && expected) {
      const prom = await p.read(`Service ${expected.namespace}/${expected.service} not read`, 'get services', () => p.view.service(expected.namespace, expected.service));
      if (prom && prom !== REFUSED) evidence = [...evidence, `Service ${expected.namespace}/${expected.service} exists (ports: ${portsText(prom)})`];
    }
    p.add(
      isExpected || !wanted
        ? {
            cause: `the datasource url's host ${host} names Service ${t.namespace}/${t.service}, which does not exist`,
            fix: `Create the Prometheus Service${p.stack.kind === 'taskflow' ? ' (kubectl apply -f 15-prometheus-deployment.yaml)' : ''}, or set the prometheus-service input to the Service that exists.`,
            evidence,
            target: { object: svcRef, path: [] },
          }
        : {
            cause: `the datasource url's host ${host} names Service ${t.namespace}/${t.service}, which does not exist`,
            fix: edit(`Point the url at the Prometheus Service (\`url: ${wanted}\`)`),
            evidence,
            ...(site.target ? { target: site.target } : {}),
          },
    );
    return true;
  }
  const sp = svc.spec?.ports?.find((port) => port.port === t.port);
  if (!sp) {
    const first = svc.spec?.ports?.[0]?.port ?? 9090;
    const fixed = new URL(url);
    fixed.port = String(first);
    p.add({
      cause: `the datasource url ${withoutCredentials(url)} uses port ${t.port}, but ${refText(svcRef)} exposes only ${portsText(svc)}`,
      fix: edit(`Use the Service's port in the url (\`url: ${withoutCredentials(fixed.toString()).replace(/\/$/, '')}\`)`),
      evidence: [`kubectl get svc ${t.service} -n ${t.namespace}: ports ${portsText(svc)}`],
      ...(site.target ? { target: site.target } : {}),
    });
    return true;
  }
  const eps = await p.read(`the endpoints of ${refText(svcRef)} not read`, 'get endpoints', () => p.view.endpoints(t.namespace, t.service));
  if (eps === REFUSED) return false;
  const ready = (eps?.subsets ?? []).flatMap((sub) => sub.addresses ?? []);
  const selector = selectorText(svc.spec?.selector);
  if (ready.length) return targetPortLink(p, svc, svcRef, sp, selector);
  const notReady = (eps?.subsets ?? []).flatMap((sub) => sub.notReadyAddresses ?? []);
  if (!selector) {
    p.add({
      cause: `${refText(svcRef)} has no ready endpoints and no selector`,
      fix: `Give the Service a selector matching the Prometheus pods${p.stack.prometheus.ok ? ` (${p.stack.prometheus.value.workload.selector})` : ''}, or list the pods in its Endpoints.`,
      target: { object: svcRef, path: ['spec'] },
    });
    return true;
  }
  const pods = await p.read(`the pods behind ${refText(svcRef)} not listed`, 'list pods', () => p.view.pods(t.namespace, selector));
  if (pods !== REFUSED && !pods.length) {
    p.add({
      cause: `${refText(svcRef)} selects ${selector}, which no pod in ${t.namespace} matches`,
      fix: `Make the Service's selector match the Prometheus pods' labels (kubectl get pods -n ${t.namespace} --show-labels).`,
      target: { object: svcRef, path: ['spec', 'selector'] },
    });
    return true;
  }
  p.add({
    cause: `${refText(svcRef)} has no ready endpoints: no pod matching ${selector} is Ready`,
    fix: `Get Prometheus Running and Ready (kubectl describe pod -n ${t.namespace} -l ${selector}; kubectl logs -n ${t.namespace} -l ${selector}): the Service sends traffic only to Ready pods.`,
    evidence: [
      ...(pods === REFUSED ? [] : pods.slice(0, 3).map((pod) => describePod(pod))),
      ...(notReady.length ? [`not ready addresses: ${notReady.map((a) => `${a.ip}${a.targetRef?.name ? ` (${a.targetRef.name})` : ''}`).join(', ')}`] : []),
    ],
  });
  return true;
}

/** A numeric targetPort that no selected pod declares: traffic reaches the pod on a port nothing listens on. */
async function targetPortLink(p: Probe, svc: V1Service, svcRef: ObjectRef, sp: NonNullable<NonNullable<V1Service['spec']>['ports']>[number], selector: string): Promise<boolean> {
  const targetPort = sp.targetPort ?? sp.port;
  if (typeof targetPort !== 'number' && !/^\d+$/.test(String(targetPort))) return false;
  const port = Number(targetPort);
  if (!selector) return false;
  const pods = await p.read(`the pods behind ${refText(svcRef)} not listed`, 'list pods', () => p.view.pods(svcRef.namespace ?? p.ns, selector));
  if (pods === REFUSED) return false;
  const pod = pods.find(isReady);
  const declared = (pod?.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  if (!pod || !declared.length || declared.some((d) => d.containerPort === port)) return false;
  const index = (svc.spec?.ports ?? []).indexOf(sp);
  p.add({
    cause: `${refText(svcRef)} forwards port ${sp.port} to targetPort ${port}, which pod ${pod.metadata?.name} does not declare (its container ports: ${declared.map((d) => `${d.containerPort}${d.name ? ` (${d.name})` : ''}`).join(', ')})`,
    fix: `Set targetPort on the Service's port ${sp.port} to the Prometheus container's port (${declared[0]?.name ?? declared[0]?.containerPort}).`,
    target: { object: svcRef, path: ['spec', 'ports', Math.max(0, index), 'targetPort'] },
  });
  return true;
}
