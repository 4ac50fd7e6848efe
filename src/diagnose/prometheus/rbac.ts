/**
 * Prometheus's permissions: whether its ServiceAccount may list and watch what its scrape job
 * discovers, asked with SubjectAccessReviews, or read from the refusals in its log.
 */
import { KubeError } from '../../cluster.js';
import type { Finding } from '../types.js';
import type { JobConfig } from './config.js';
import { evidence, lastLines, MAX_EVIDENCE, messageOf, type Probe } from './probe.js';

/** Prometheus's log lines about a failed Kubernetes discovery. */
const DISCOVERY_ERROR = /Failed to watch|failed to list|forbidden/i;

/** What Prometheus's service account must list and watch for a role. */
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

export async function rbacFindings(p: Probe, job: JobConfig | undefined, namespaces: string[] | undefined): Promise<Finding[]> {
  const { cluster, signal } = p.ctx;
  const own = job?.sd.find((s) => s.ownCredentials);
  if (own) {
    p.note(`Prometheus's permissions not checked: job ${job?.name} discovers through ${own.ownCredentials}, with its own credentials`);
    return [];
  }
  const pod = await p.prometheusPod();
  if (!pod) {
    if ((await p.prometheusPods()) !== undefined) p.note(`Prometheus's ServiceAccount not known: no pod matches ${p.ctx.settings.prometheusSelector} in namespace ${p.ns}`);
    return [];
  }
  const promNs = pod.metadata?.namespace ?? p.ns;
  const sa = pod.spec?.serviceAccountName ?? pod.spec?.serviceAccount ?? 'default';
  const user = `system:serviceaccount:${promNs}:${sa}`;
  const groups = ['system:serviceaccounts', `system:serviceaccounts:${promNs}`, 'system:authenticated'];
  const roles = [...new Set((job?.sd.length ? job.sd.map((s) => s.role) : ['pod']).flatMap((r) => roleResources(r).map((x) => JSON.stringify(x))))].map(
    (x) => JSON.parse(x) as { resource: string; group?: string },
  );
  const scopes: (string | undefined)[] = namespaces ?? [undefined];

  const refused: { verb: string; resource: string; namespace: string | undefined }[] = [];
  let asked = true;
  outer: for (const { resource, group } of roles) {
    for (const namespace of scopes) {
      for (const verb of ['list', 'watch']) {
        try {
          const answer = await cluster.canUser(user, groups, { verb, resource, group, ...(namespace ? { namespace } : {}) }, signal);
          if (!answer.allowed) refused.push({ verb, resource, namespace });
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
  const container = (pod.spec?.containers ?? []).find((c) => /prometheus/.test(c.name))?.name ?? pod.spec?.containers?.[0]?.name ?? 'prometheus';
  const log = await p.logs(pod, container, 300, false, "Prometheus's logs");
  const seen = new Set<string>();
  const logLines = lastLines(log, 300)
    .filter((l) => DISCOVERY_ERROR.test(l))
    .filter((l) => {
      const key = l.replace(/^ts=\S+\s+/, '').replace(/^\S*\d{4}-\d\d-\d\dT\S+\s+/, '');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });

  if (!asked) {
    // Without access reviews, Prometheus's own refusals say it.
    for (const line of logLines) {
      const m = /User \\?"system:serviceaccount:[^:"\\]+:[^"\\]+\\?" cannot (\w+) resource \\?"([\w.]+)\\?"[^]*?(?:in the namespace \\?"([^"\\]+)\\?"|at the cluster scope)/.exec(line);
      if (m) refused.push({ verb: m[1]!, resource: m[2]!, namespace: m[3] });
    }
    if (!refused.length) return [];
  }

  const verbs = [...new Set(refused.map((r) => r.verb))];
  const resources = [...new Set(refused.map((r) => r.resource))];
  const nss = [...new Set(refused.map((r) => r.namespace))];
  const where = nss.includes(undefined)
    ? 'cluster-wide'
    : nss.length === 1
      ? `in namespace ${nss[0]}`
      : `in namespaces ${nss.join(', ')}`;
  const reviews = asked
    ? refused.slice(0, 2).map((r) => `SubjectAccessReview: ${user} may not ${r.verb} ${r.resource}${r.namespace ? ` in namespace ${r.namespace}` : ' cluster-wide'}`)
    : [];
  return [
    {
      cause: `ServiceAccount ${promNs}/${sa} may not ${verbs.join(' or ')} ${resources.join(', ')} ${where}, so Prometheus discovers no target`,
      fix: `Bind it to a ClusterRole with get/list/watch on ${resources.join(', ')} (kubectl apply -f 16-prometheus-rbac.yaml)`,
      evidence: evidence([...logLines.slice(-(MAX_EVIDENCE - reviews.length)), ...reviews]),
      target: { object: { kind: 'ClusterRoleBinding', name: sa }, path: ['subjects'] },
    },
  ];
}
