/** Every check, in the contract's order. */
import { CHECK_IDS, type CheckId } from '../types.js';
import type { Check } from './check.js';
import { clusterAccess } from './cluster-access.js';
import { dashboards } from './dashboards.js';
import { datasourceConfigmap } from './datasource-configmap.js';
import { datasourceMounted } from './datasource-mounted.js';
import { grafanaApi } from './grafana-api.js';
import { grafanaDatasourceHealth } from './grafana-datasource-health.js';
import { grafanaDatasource } from './grafana-datasource.js';
import { grafanaPod } from './grafana-pod.js';
import { grafanaQuery } from './grafana-query.js';
import { prometheusApi } from './prometheus-api.js';
import { prometheusPod } from './prometheus-pod.js';
import { prometheusQuery } from './prometheus-query.js';
import { prometheusService } from './prometheus-service.js';
import { prometheusTargets } from './prometheus-targets.js';

const byId: Record<CheckId, Check> = {
  'cluster-access': clusterAccess,
  'prometheus-pod': prometheusPod,
  'grafana-pod': grafanaPod,
  'prometheus-service': prometheusService,
  'prometheus-api': prometheusApi,
  'prometheus-targets': prometheusTargets,
  'prometheus-query': prometheusQuery,
  'grafana-api': grafanaApi,
  'datasource-configmap': datasourceConfigmap,
  'datasource-mounted': datasourceMounted,
  'grafana-datasource': grafanaDatasource,
  'grafana-datasource-health': grafanaDatasourceHealth,
  'grafana-query': grafanaQuery,
  dashboards,
};

export const CHECKS: readonly Check[] = CHECK_IDS.map((id) => byId[id]);
export type { Check, CheckContext } from './check.js';
