/**
 * Grafana rejected the credentials (401) or the permission (403): which credential was used, and
 * where the Grafana controller takes its admin user and password from (its pod template, else
 * what discovery read in the running pod). A Basic-auth request Grafana answered as if it carried
 * no credentials means basic auth is disabled there, never a wrong password.
 */
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { basicAuthIgnored } from '../../grafana.js';
import type { Probe } from './probe.js';
import { containersPath, refText } from './text.js';
import type { ObjectRef } from '../types.js';

function envIndex(c: V1Container | undefined, name: string): number {
  return (c?.env ?? []).findIndex((e) => e.name === name);
}

/** The Grafana container of the Deployment's pod template, and its index. */
function templateContainer(p: Probe, dep: V1Deployment): { container: V1Container | undefined; index: number } {
  const containers = dep.spec?.template?.spec?.containers ?? [];
  const index = Math.max(0, containers.findIndex((c) => c.name === p.container || (c.env ?? []).some((e) => e.name.startsWith('GF_SECURITY_ADMIN_'))));
  return { container: containers[index], index };
}

/**
 * Basic auth is disabled in Grafana (`[auth.basic] enabled = false`): the Basic header is not
 * read, so the answer is "Unauthorized" whatever the password. The fix is a token or the login
 * session (POST /login works with basic auth disabled); the pod template's
 * `GF_AUTH_BASIC_ENABLED` is shown when it is what disables it.
 */
async function basicDisabled(p: Probe, http: string): Promise<void> {
  const credential = p.ctx.grafana.credential;
  const dep = await p.grafanaDeployment();
  const depRef: ObjectRef | undefined = dep ? { kind: 'Deployment', namespace: p.ns, name: dep.metadata?.name ?? 'grafana' } : undefined;
  const { container, index } = dep ? templateContainer(p, dep) : { container: undefined, index: 0 };
  const ei = envIndex(container, 'GF_AUTH_BASIC_ENABLED');
  const setting = container?.env?.[ei];
  const fromTemplate = depRef && setting?.value !== undefined && /^(0|f|false)$/i.test(setting.value);
  p.add({
    cause: `Basic auth is disabled in Grafana: it answered ${http} to ${credential}, as to a request without credentials, so the password was never checked`,
    fix: `Use a token or the login session: set the grafana-token input (a service-account token, Administration → Service accounts), or use access: proxy, where the action logs in with the password (POST /login works with basic auth disabled). Or enable basic auth${fromTemplate ? ` (GF_AUTH_BASIC_ENABLED in ${refText(depRef)})` : ' ([auth.basic] enabled = true, GF_AUTH_BASIC_ENABLED=true)'}.`,
    evidence: [
      `Grafana answered ${http} to ${credential}: "Unauthorized" is its answer to a request without credentials, where a wrong password gets "Invalid username or password"`,
      ...(fromTemplate ? [`${refText(depRef)}, container ${container?.name}: GF_AUTH_BASIC_ENABLED=${setting.value}`] : []),
    ],
    ...(fromTemplate ? { target: { object: depRef, path: [...containersPath(depRef), index, 'env', ei] } } : {}),
  });
}

/**
 * The credential Grafana refused (`status`, Grafana's own `message`), and where its admin user and
 * password come from. `ignored`: Grafana answered a Basic-auth request as if it carried no
 * credentials (the reason's `basicAuthIgnored`; worked out from the answer when not given).
 */
export async function authProbe(p: Probe, status: 401 | 403, message: string, ignored?: boolean): Promise<void> {
  const grafana = p.ctx.grafana;
  const credential = grafana.credential;
  const http = `HTTP ${status}${message ? `: ${message}` : ''}`;
  const answered = `Grafana answered ${http} to ${credential}`;
  if (status === 403) {
    p.add({
      cause: `Grafana accepted ${credential} but refused the request (${http})`,
      fix: `Give that ${grafana.auth.kind === 'token' ? 'service account' : 'user'} the Admin role in Grafana, or at least datasources:read and datasources:query on ${p.wanted ? `"${p.wanted}"` : 'the Prometheus datasource'} (Administration → ${grafana.auth.kind === 'token' ? 'Service accounts' : 'Users'}).`,
      evidence: [answered],
    });
    return;
  }
  if (grafana.auth.kind === 'none') {
    p.add({
      cause: `Grafana's API refused a request without credentials (${http})`,
      fix: 'Set the grafana-password input (the admin password, from a repository secret) or the grafana-token input.',
      evidence: [answered],
    });
    return;
  }
  if (ignored ?? basicAuthIgnored(grafana.auth, status, message)) {
    await basicDisabled(p, http);
    return;
  }
  if (grafana.auth.kind === 'token') {
    p.add({
      cause: `Grafana rejected the grafana-token (${http})`,
      fix: 'The token is invalid, expired or revoked, or belongs to another Grafana: create a new service-account token (Administration → Service accounts) and update the secret behind the grafana-token input.',
      evidence: [answered],
    });
    return;
  }
  const user = grafana.auth.user;
  const cause = `Grafana rejected ${credential} (${http})`;
  const dep = await p.grafanaDeployment();
  if (!dep) {
    const from = p.site?.credentials;
    p.add({
      cause,
      fix: from
        ? `Set the grafana-password input to the value of Secret ${p.ns}/${from.secret} key ${from.passwordKey} (kubectl get secret ${from.secret} -n ${p.ns} -o jsonpath='{.data.${from.passwordKey}}' | base64 -d), which the Grafana pod gets as GF_SECURITY_ADMIN_PASSWORD, or the password set in Grafana since.`
        : `Set the grafana-password input to Grafana's admin password: the value the Grafana pod gets as GF_SECURITY_ADMIN_PASSWORD, or the password set in Grafana since.`,
      evidence: [answered],
    });
    return;
  }
  const depRef: ObjectRef = { kind: 'Deployment', namespace: p.ns, name: dep.metadata?.name ?? 'grafana' };
  const { container, index: ci } = templateContainer(p, dep);
  const base = [...containersPath(depRef), ci];

  // The user name first: a different admin user explains the refusal whatever the password.
  const ui = envIndex(container, 'GF_SECURITY_ADMIN_USER');
  const userEnv = container?.env?.[ui];
  if (userEnv?.value !== undefined && userEnv.value !== user) {
    p.add({
      cause: `${cause}: ${refText(depRef)} sets GF_SECURITY_ADMIN_USER to "${userEnv.value}", not "${user}"`,
      fix: `Set the grafana-username input to "${userEnv.value}" (or change GF_SECURITY_ADMIN_USER).`,
      evidence: [`${refText(depRef)}, container ${container?.name}: GF_SECURITY_ADMIN_USER=${userEnv.value}`],
      target: { object: depRef, path: [...base, 'env', ui] },
    });
    return;
  }
  const pi = envIndex(container, 'GF_SECURITY_ADMIN_PASSWORD');
  const fi = envIndex(container, 'GF_SECURITY_ADMIN_PASSWORD__FILE');
  const passwordEnv = container?.env?.[pi];
  const firstStart = 'Grafana applies it only when it creates the admin user, on its first start with an empty database: if the password was changed in Grafana since, use that one.';
  const ref = passwordEnv?.valueFrom?.secretKeyRef;
  if (ref?.name) {
    const secret = `Secret ${p.ns}/${ref.name} key ${ref.key}`;
    p.add({
      cause,
      fix: `Set the grafana-password input to the value of ${secret} (kubectl get secret ${ref.name} -n ${p.ns} -o jsonpath='{.data.${ref.key}}' | base64 -d), which ${refText(depRef)} gives Grafana as GF_SECURITY_ADMIN_PASSWORD. ${firstStart}`,
      evidence: [`${refText(depRef)}, container ${container?.name}: GF_SECURITY_ADMIN_PASSWORD from ${secret}`],
      target: { object: depRef, path: [...base, 'env', pi] },
    });
    return;
  }
  if (passwordEnv) {
    p.add({
      cause,
      fix: `Set the grafana-password input to the GF_SECURITY_ADMIN_PASSWORD that ${refText(depRef)} sets in container ${container?.name} (better: move it to a Secret and use valueFrom.secretKeyRef). ${firstStart}`,
      evidence: [`${refText(depRef)}, container ${container?.name}: GF_SECURITY_ADMIN_PASSWORD set ${passwordEnv.valueFrom ? 'from a reference' : 'inline'}`],
      target: { object: depRef, path: [...base, 'env', pi] },
    });
    return;
  }
  if (fi >= 0) {
    p.add({
      cause,
      fix: `Set the grafana-password input to the content of the file GF_SECURITY_ADMIN_PASSWORD__FILE names in ${refText(depRef)}. ${firstStart}`,
      target: { object: depRef, path: [...base, 'env', fi] },
    });
    return;
  }
  const fromSecrets = (container?.envFrom ?? []).map((e) => e.secretRef?.name).filter(Boolean);
  p.add({
    cause,
    fix: fromSecrets.length
      ? `Set the grafana-password input to GF_SECURITY_ADMIN_PASSWORD from Secret ${p.ns}/${fromSecrets[0]} (envFrom of ${refText(depRef)}). ${firstStart}`
      : `${refText(depRef)} sets no GF_SECURITY_ADMIN_PASSWORD, so Grafana's admin password is "admin" unless it was changed in Grafana: set the grafana-password input to it, or set GF_SECURITY_ADMIN_PASSWORD from a Secret.`,
    evidence: [`${refText(depRef)}, container ${container?.name}: no GF_SECURITY_ADMIN_PASSWORD`],
    target: { object: depRef, path: [...base, fromSecrets.length ? 'envFrom' : 'env'] },
  });
}
