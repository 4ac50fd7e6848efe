/**
 * Grafana-side probes: the seed guide's troubleshooting ("Datasource Prometheus introuvable dans
 * Grafana", "Connexion refusée entre Grafana et Prometheus"), automated and read-only.
 *
 * - No such datasource: the chain ConfigMap → provisioned datasource → Deployment template mounts
 *   it → running pod mounts it → the container sees the file → Grafana's provisioning log lines →
 *   Grafana provisions only at start-up. The first broken link is the finding.
 * - Datasource health / query errors: the datasource URL → its Service → port → ready endpoints →
 *   `nslookup` and `wget` from the Grafana pod.
 * - 401/403 from Grafana: which credential was refused, and where Grafana's admin password comes from.
 * - Grafana pod or API down: why the pod does not run (its previous run's log, image, volumes).
 *
 * A refused read (HTTP 403) becomes a note saying what was not diagnosed and which permission is
 * missing. No credential is ever put on an exec command line: the API server's audit log records
 * exec arguments.
 */
import type { CheckId } from '../types.js';
import { authProbe, authStatus } from './grafana/auth.js';
import { connectionChain, connectionError } from './grafana/connection.js';
import { grafanaApiProbe, grafanaPodProbe } from './grafana/pods.js';
import { prober } from './grafana/probe.js';
import { listedMismatch, provisioningChain } from './grafana/provisioning.js';
import type { Prober } from './types.js';

export { provisioningLog } from './grafana/logs.js';

/** `grafana-datasource`: refused credentials, no such datasource, another url or type, else the API itself. */
const listedProber = prober(async (p, result) => {
  const status = authStatus(result);
  if (status) return authProbe(p, result, status);
  if (/none named|no datasource at all/.test(result.summary)) return provisioningChain(p, 'listed');
  if (/has url /.test(result.summary)) return listedMismatch(p, 'url');
  if (/has type /.test(result.summary)) return listedMismatch(p, 'type');
  return grafanaApiProbe(p, result);
});

/** Health and query errors: refused credentials, else why Grafana cannot reach Prometheus (PromQL errors are not probed). */
const connectionProber = prober(async (p, result) => {
  const status = authStatus(result);
  if (status) return authProbe(p, result, status);
  if (/no longer lists/.test(result.summary)) return;
  if (result.id === 'grafana-query' && !connectionError(result.summary)) return;
  if (result.id === 'grafana-datasource-health' && !/test of/.test(result.summary) && !connectionError(result.summary)) return grafanaApiProbe(p, result);
  return connectionChain(p, result);
});

export const GRAFANA_PROBERS: Partial<Record<CheckId, Prober>> = {
  'grafana-pod': prober((p) => grafanaPodProbe(p)),
  'grafana-api': prober((p, result) => grafanaApiProbe(p, result)),
  'datasource-configmap': prober((p) => provisioningChain(p, 'configmap')),
  'datasource-mounted': prober((p) => provisioningChain(p, 'mounted')),
  'grafana-datasource': listedProber,
  'grafana-datasource-health': connectionProber,
  'grafana-query': connectionProber,
};
