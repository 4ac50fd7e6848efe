/**
 * Prometheus's permissions: whether its ServiceAccount (the pod's `serviceAccountName`) may list
 * and watch what its Kubernetes service discovery reads, asked with SubjectAccessReviews, or read
 * from the refusals Prometheus logs ("Failed to watch *v1.Endpoints: … is forbidden"). The fix is
 * worded by the stack's profile (a TaskFlow manifest, kube-prometheus's per-namespace Roles, the
 * chart's ClusterRole).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { KubeError } from '../../cluster.js';
import type { Finding, ObjectPath } from '../types.js';
import type { JobConfig } from './config.js';
import { jobNamespaces } from './config.js';
import { evidence, lastLines, MAX_EVIDENCE, messageOf, type Probe } from './probe.js';

/** Prometheus's log lines about a failed Kubernetes discovery. */
const DISCOVERY_ERROR = /Failed to watch|failed to list|forbidden/i;

/** What Prometheus's service account must list and watch for a kubernetes_sd role (Prometheus discovery/kubernetes). */
function roleResources(role: string): { resource: string; group?: string }[] {
  switch (role) {
    case 'endpoints':
      return [{ resource: 'endpoints' }, { resource: 'services' }, { resource: 'pods' }];
    case 'endpointslice':
      return [{ resource: 'endpointslices', group: 'discovery.k8s.io' }, { resource: 'services' }, { resource: 'pods' }];
    case 'service':
      return [{ resource: 'services' }];
    case 'ingress':
      return [{ resource: 'ingresses', group: 'networking.k8s.io' }];
    case 'node':
      return [{ resource: 'nodes' }];
    default:
      return [{ resource: 'pods' }];
  }
}

/** What a set of scrape jobs discovers, and through which credentials. */
export interface DiscoveryScope {
  /** kubernetes_sd roles: pod, endpoints, endpointslice, service, node, ingress. */
  readonly roles: readonly string[];
  /** undefined: every namespace (cluster-scope permissions). */
  readonly namespaces: readonly string[] | undefined;
  /** A job whose discovery authenticates with its own credentials (a kubeconfig file, a token): not asked. */
  readonly ownCredentials?: { readonly job: string; readonly how: string };
  /** What the refusal leads to: `Prometheus discovers no target` (the default). */
  readonly consequence?: string;
}

/** The scope of scrape jobs from the running configuration (config unread: TaskFlow's pod discovery in Prometheus's namespace). */
export function jobsScope(jobs: readonly JobConfig[], promNamespace: string, fallback: readonly string[] | undefined = [promNamespace]): DiscoveryScope {
  const withSd = jobs.filter((j) => j.sd.length);
  const own = withSd.flatMap((j) => j.sd.filter((s) => s.ownCredentials).map((s) => ({ job: j.name, how: s.ownCredentials! })))[0];
  if (!withSd.length) return { roles: ['pod'], namespaces: fallback };
  const lists = withSd.map((j) => jobNamespaces(j, promNamespace));
  const namespaces = lists.some((l) => l === undefined) ? undefined : [...new Set(lists.flatMap((l) => l ?? []))];
  return { roles: [...new Set(withSd.flatMap((j) => j.sd.map((s) => s.role)))], namespaces, ...(own ? { ownCredentials: own } : {}) };
}

interface Refusal {
  readonly verb: string;
  readonly resource: string;
  readonly namespace: string | undefined;
}

/** Prometheus's pod, its namespace and ServiceAccount (the pod spec's), and the user SubjectAccessReviews ask about. */
export async function prometheusIdentity(p: Probe): Promise<{ pod: V1Pod; namespace: string; sa: string; user: string; groups: string[] } | undefined> {
  const pod = await p.prometheusPod();
  if (!pod) return undefined;
  const namespace = pod.metadata?.namespace ?? p.ns;
  const sa = pod.spec?.serviceAccountName ?? pod.spec?.serviceAccount ?? p.site?.serviceAccount ?? 'default';
  return { pod, namespace, sa, user: `system:serviceaccount:${namespace}:${sa}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
}

/** Where the fix goes: the binding or role that grants discovery, as each stack defines it. */
function rbacTarget(p: Probe, sa: string): ObjectPath | undefined {
  switch (p.ctx.stack.kind) {
    case 'kube-prometheus':
      // Roles per namespace (prometheus-roleSpecificNamespaces.yaml): the fix adds one, there is nothing to point at.
      return undefined;
    case 'kube-prometheus-stack':
      return { object: { kind: 'ClusterRole', name: sa }, path: ['rules'] };
    default:
      return { object: { kind: 'ClusterRoleBinding', name: sa }, path: ['subjects'] };
  }
}

/** Whether Prometheus's ServiceAccount may list and watch what `scope` discovers; a finding when it may not. */
export async function rbacFindings(p: Probe, scope: DiscoveryScope): Promise<Finding[]> {
  const { cluster, signal } = p.ctx;
  if (scope.ownCredentials) {
    p.note(`Prometheus's permissions not checked: job ${scope.ownCredentials.job} discovers through ${scope.ownCredentials.how}, with its own credentials`);
    return [];
  }
  const who = await prometheusIdentity(p);
  if (!who) {
    if (p.site && (await p.prometheusPods()) !== undefined) p.note(`Prometheus's ServiceAccount not known: no pod matches ${p.site.workload.selector} in namespace ${p.ns}`);
    return [];
  }
  const { pod, namespace: promNs, sa, user, groups } = who;
  const resources = [...new Map(scope.roles.flatMap(roleResources).map((r) => [`${r.group ?? ''}/${r.resource}`, r])).values()];
  const scopes: readonly (string | undefined)[] = scope.namespaces ?? [undefined];

  const refused: Refusal[] = [];
  let asked = true;
  outer: for (const { resource, group } of resources) {
    for (const namespace of scopes) {
      for (const verb of ['list', 'watch']) {
        const key = `sar ${verb} ${group ?? ''}/${resource} ${namespace ?? '*'}`;
        let answer: Promise<boolean> | undefined = p.memo.get(key) as Promise<boolean> | undefined;
        if (!answer) {
          answer = cluster.canUser(user, groups, { verb, resource, ...(group ? { group } : {}), ...(namespace ? { namespace } : {}) }, signal).then((a) => a.allowed);
          p.memo.set(key, answer);
        }
        try {
          if (!(await answer)) refused.push({ verb, resource, namespace });
        } catch (err) {
          if (signal.aborted) throw err;
          asked = false;
          p.note(
            err instanceof KubeError && err.status === 403
              ? `could not ask whether ServiceAccount ${promNs}/${sa} may ${verb} ${resource}: subjectaccessreviews create is forbidden for the action's credentials`
              : `could not ask whether ServiceAccount ${promNs}/${sa} may ${verb} ${resource}: ${messageOf(err)}`,
          );
          break outer;
        }
      }
    }
  }

  if (!refused.length && asked) return [];
  const container = p.site?.container ?? (pod.spec?.containers ?? []).find((c) => /prometheus/.test(c.name))?.name ?? pod.spec?.containers?.[0]?.name ?? 'prometheus';
  const log = await p.logs(pod, container, 300, false, "Prometheus's logs");
  const seen = new Set<string>();
  const logLines = lastLines(log, 300)
    .filter((l) => DISCOVERY_ERROR.test(l))
    .filter((l) => {
      // The same refusal is logged again at every retry: quote it once.
      const key = l.replace(/^(ts|time)=\S+\s+/, '').replace(/^\S*\d{4}-\d\d-\d\dT\S+\s+/, '');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });

  if (!asked) {
    // Without access reviews, Prometheus's own refusals say it.
    for (const line of logLines) {
      const m = /User \\?"system:serviceaccount:[^:"\\]+:[^"\\]+\\?" cannot (\w+) resource \\?"([\w.]+)\\?"[^]*?(?:in the namespace \\?"([^"\\]+)\\?"|at the cluster scope)/.exec(line);
      if (!m) continue;
      const r = { verb: m[1]!, resource: m[2]!, namespace: m[3] };
      if (scope.namespaces && r.namespace && !scope.namespaces.includes(r.namespace)) continue;
      refused.push(r);
    }
    if (!refused.length) return [];
  }

  const verbs = [...new Set(refused.map((r) => r.verb))];
  const names = [...new Set(refused.map((r) => r.resource))];
  const nss = [...new Set(refused.map((r) => r.namespace))];
  const where = nss.includes(undefined) ? 'cluster-wide' : nss.length === 1 ? `in namespace ${nss[0]}` : `in namespaces ${nss.join(', ')}`;
  // The log lines about the refused namespaces (all discovery errors when none names one).
  const relevant = logLines.filter((l) => nss.some((n) => (n === undefined ? /cluster scope/.test(l) : l.includes(`"${n}\\"`) || l.includes(`"${n}"`))));
  const quoted = relevant.length ? relevant : logLines;
  const reviews = asked
    ? refused.slice(0, 2).map((r) => `SubjectAccessReview: ${user} may not ${r.verb} ${r.resource}${r.namespace ? ` in namespace ${r.namespace}` : ' cluster-wide'}`)
    : [];
  const namespaceText = nss.includes(undefined) ? 'every namespace' : nss.join(', ');
  const target = rbacTarget(p, sa);
  return [
    {
      cause: `ServiceAccount ${promNs}/${sa} may not ${verbs.join(' or ')} ${names.join(', ')} ${where}, so ${scope.consequence ?? 'Prometheus discovers no target'}`,
      fix: p.profile.prometheusRbac(p.ctx.stack, namespaceText, sa, names),
      evidence: evidence([...quoted.slice(-(MAX_EVIDENCE - reviews.length)), ...reviews]),
      ...(target ? { target } : {}),
    },
  ];
}
