/**
 * Grafana-side probes: the seed guide's troubleshooting ("Datasource Prometheus introuvable dans
 * Grafana", "Connexion refusée entre Grafana et Prometheus"), automated and read-only, along the
 * stack discovery found.
 *
 * - No such datasource: the chain along the datasource's route — the objects (ConfigMap, Secret,
 *   projected, or those carrying the sidecar's label) → the controller's pod template → the
 *   running pod → the file in the container → Grafana's and the sidecar's log lines → Grafana
 *   provisions at start-up (or on the sidecar's reload). The first broken link is the finding.
 * - Datasource health / query errors: the datasource URL → its Service → port → ready endpoints →
 *   `nslookup` and `wget` from the Grafana pod.
 * - 401/403 from Grafana: which credential was refused, and where Grafana's admin password comes from.
 * - Grafana pod or API down: why the pod does not run (its previous run's log, the sidecar's
 *   permissions, image, volumes).
 *
 * Probes are chosen by the check and its typed reason, never by the wording of its summary. A
 * refused read (HTTP 403) becomes a note saying what was not diagnosed and which permission is
 * missing. No credential is ever put on an exec command line: the API server's audit log records
 * exec arguments.
 */
import { isConnectionMessage, isReason } from '../reasons.js';
import type { CheckId, CheckResult } from '../types.js';
import { authProbe } from './grafana/auth.js';
import { connectionChain } from './grafana/connection.js';
import { operatorProbe } from './grafana/operator.js';
import { grafanaApiProbe, grafanaPodProbe } from './grafana/pods.js';
import { prober, type Probe } from './grafana/probe.js';
import { listedMismatch, provisioningChain } from './grafana/provisioning.js';
import type { Prober } from './types.js';

export { provisioningLog } from './grafana/logs.js';
export { parseSidecarLog, refusalOf, reloadCalls, writes } from './grafana/sidecar-log.js';

/** Grafana refused the credentials: the auth probe, whatever the check. True when it ran. */
async function refused(p: Probe, result: CheckResult): Promise<boolean> {
  if (!isReason(result.reason, 'grafana.auth')) return false;
  await authProbe(p, result.reason.status, result.reason.message);
  return true;
}

/** An error that ended the attempt (proxy, HTTP, network, timeout): Grafana's Service and pods. */
function endedByError(result: CheckResult): boolean {
  return isReason(result.reason, 'error.proxy', 'error.http', 'error.network', 'error.timeout', 'error.other');
}

/** `datasource-configmap`: the objects of the route (or the GrafanaDatasource objects). */
const objectsProber = prober(async (p, result) => {
  if (isReason(result.reason, 'provisioning.operator-failed')) {
    await operatorProbe(p, true);
    return;
  }
  if (isReason(result.reason, 'discovery.not-found', 'discovery.ambiguous', 'discovery.unreadable')) return;
  await provisioningChain(p, 'configmap');
});

/** `datasource-mounted`: no pod, else the chain up to Grafana's log. */
const mountedProber = prober(async (p, result) => {
  if (isReason(result.reason, 'pod.none')) return grafanaPodProbe(p, result);
  if (isReason(result.reason, 'discovery.not-found', 'discovery.ambiguous', 'discovery.unreadable')) return;
  await provisioningChain(p, 'mounted');
});

/** `grafana-datasource`: refused credentials, no such datasource, another url or type, else the API itself. */
const listedProber = prober(async (p, result) => {
  if (await refused(p, result)) return;
  const reason = result.reason;
  if (isReason(reason, 'datasource.not-listed')) return provisioningChain(p, 'listed');
  if (isReason(reason, 'datasource.url-mismatch', 'datasource.type-mismatch')) return listedMismatch(p, reason);
  if (endedByError(result)) return grafanaApiProbe(p, result);
});

/** Health and query errors: refused credentials, else why Grafana cannot reach Prometheus (PromQL errors are not probed). */
const connectionProber = prober(async (p, result) => {
  if (await refused(p, result)) return;
  const reason = result.reason;
  if (isReason(reason, 'datasource.health-failed')) return connectionChain(p, reason.name, reason.message);
  if (isReason(reason, 'grafana-query.error')) {
    if (isConnectionMessage(reason.message)) await connectionChain(p, undefined, reason.message);
    return;
  }
  if (endedByError(result)) return grafanaApiProbe(p, result);
});

export const GRAFANA_PROBERS: Partial<Record<CheckId, Prober>> = {
  'grafana-pod': prober((p, result) => grafanaPodProbe(p, result)),
  'grafana-api': prober(async (p, result) => {
    if (await refused(p, result)) return;
    await grafanaApiProbe(p, result);
  }),
  'datasource-configmap': objectsProber,
  'datasource-mounted': mountedProber,
  'grafana-datasource': listedProber,
  'grafana-datasource-health': connectionProber,
  'grafana-query': connectionProber,
};
