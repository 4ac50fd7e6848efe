/**
 * `dashboards`: every Prometheus panel of the chosen dashboards runs through Grafana over the
 * dashboard's time range, template variables resolved, and returns data. The work lives in
 * src/dashboards/ (loaded when this check runs); the PromQL parser only when a panel is empty.
 */
import type { DashboardProvisioner, DashboardResult, PanelResult } from '../types.js';
import type { ObjectPath } from '../diagnose/types.js';
import { plural } from '../render/format.js';
import { fail, pass, warn, type Check, type CheckContext } from './check.js';
import { findDatasource } from './grafana-datasource.js';

/** The share of the attempt's budget the dashboards may use: the rest is margin to report. */
const BUDGET_SHARE = 0.8;

export const dashboards: Check = {
  id: 'dashboards',
  title: "Dashboards' Prometheus panels return data",
  needs: ['cluster-access', 'grafana-datasource'],
  async run(ctx) {
    const { settings, view, grafana, prometheus, signal, stack } = ctx;
    const choice = settings.dashboards;
    if (choice.mode === 'none') return pass('not run: the dashboards input is none', { details: { dashboards: 0, panels: 0, queries: 0 } });
    const { ds, all, wanted } = await findDatasource(view, stack);
    if (!ds) return fail(`Grafana no longer lists "${wanted ?? 'the Prometheus datasource'}"`, 'The datasource disappeared during the run; run the check again.', { code: 'datasource.vanished', name: wanted ?? '' });
    const started = Date.now();
    const { runDashboards } = await import('../dashboards/run.js');
    const result = await runDashboards({
      io: {
        dashboardHits: () => view.dashboardHits(),
        dashboard: (uid, s) => view.dashboard(uid, s),
        libraryElement: (uid, s) => view.libraryElement(uid, s),
        panelQuery: (request, s) => grafana.panelQuery(request, s),
        datasourceResource: (uid, path, s) => grafana.datasourceResource(uid, path, s),
        labelValues: (label, matches, range, s) => view.labelValues(label, matches, range, s),
        series: (match, range, s) => prometheus.series(match, range, s),
        instantQuery: (expr, s) => prometheus.query(expr, s),
        targets: async () => (await view.targets('')).targets,
      },
      datasources: all,
      checked: ds,
      choice,
      requestTimeoutMs: settings.requestTimeoutMs,
      allowDownTargets: settings.allowDownTargets,
      deadline: started + Math.floor(BUDGET_SHARE * Math.max(0, ctx.deadline - started)),
      signal,
    });
    // With `all`: the dashboards the stack provisions (mounted ConfigMaps, a dashboard sidecar's) that Grafana does not have.
    const absent = choice.mode === 'all' ? await provisionedButAbsent(ctx) : { results: [], notes: [] };
    const placed = await placeInManifests(ctx, [...result.dashboards, ...absent.results]);
    const { counts, unmatched, notRun } = result;
    const details = { dashboards: counts.dashboards, panels: counts.panels, queries: counts.queries };
    const panels = placed.flatMap((d) => d.panels.map((p) => ({ d, p })));
    const failed = panels.filter(({ p }) => p.status === 'fail');
    const empty = panels.filter(({ p }) => p.status !== 'pass' && p.kind === 'no-data');
    const allowed = panels.filter(({ p }) => p.kind === 'allowed-no-data');
    const notInGrafana = placed.filter((d) => d.kind === 'not-in-grafana');
    const brokenDashboards = placed.filter((d) => d.kind === 'unreadable');
    const schemaV2 = placed.filter((d) => d.kind === 'schema-v2');
    const namedV2 = schemaV2.filter((d) => d.status === 'fail');
    const ran = `${plural(counts.dashboards, 'dashboard', 'dashboards')}, ${plural(counts.panels, 'panel', 'panels')}, ${plural(counts.queries, 'query', 'queries')}`;
    const extra = { details: absent.notes.length ? { ...details, notes: absent.notes } : details, dashboards: placed };

    if (!placed.length && !unmatched.length) {
      const none = choice.mode === 'all' ? `Grafana has no dashboard with a Prometheus panel${result.withoutPrometheus ? ` (${plural(result.withoutPrometheus, 'dashboard', 'dashboards')} without one)` : ''}` : 'no dashboard to check';
      return pass(`${none}: nothing to run`, extra);
    }
    const problems = [
      failed.length ? `${plural(failed.length, 'panel', 'panels')} failed` : '',
      empty.length ? `${empty.length} without data` : '',
      brokenDashboards.length ? `${plural(brokenDashboards.length, 'dashboard', 'dashboards')} could not be read` : '',
      notInGrafana.length ? `${plural(notInGrafana.length, 'provisioned dashboard', 'provisioned dashboards')} not in Grafana` : '',
      schemaV2.length ? `${plural(schemaV2.length, 'dashboard', 'dashboards')} in schema v2 not checked` : '',
      unmatched.length ? `${unmatched.map((u) => `"${u}"`).join(', ')} matched no dashboard` : '',
      notRun ? `${notRun} not run in time` : '',
      allowed.length ? `${allowed.length} without data as allow-down-targets allows` : '',
    ].filter((x) => x);
    const summary = `${ran}: ${problems.length ? problems.join(', ') : 'every panel returned data'}`;
    const missing = [...new Set(failed.flatMap(({ p }) => (p.kind === 'datasource-not-found' && p.datasource !== undefined ? [p.datasource] : [])))];
    const v2Hint = schemaV2.length
      ? `${schemaV2.map((d) => `"${d.title}"`).join(', ')} ${schemaV2.length === 1 ? 'is' : 'are'} stored in Grafana 12's dashboard schema v2 (saved by the new editor, feature toggle dashboardNewLayouts), which GET /api/dashboards/uid answers with 406: the action reads classic dashboards; export ${schemaV2.length === 1 ? 'it' : 'them'} as classic JSON and import ${schemaV2.length === 1 ? 'it' : 'them'} again to have ${schemaV2.length === 1 ? 'its' : 'their'} panels checked.`
      : '';
    if (failed.length || brokenDashboards.length || unmatched.length || notInGrafana.length || namedV2.length) {
      const first = failed[0];
      const absentFirst = notInGrafana[0];
      const hint = [
        absentFirst ? `"${absentFirst.title}" is ${absentFirst.problem}: ${absentCause(absentFirst)}` : '',
        first ? `"${first.p.title}" on dashboard "${first.d.title}": ${first.p.problem}${first.p.cause ? ` — ${first.p.cause}` : ''}.` : '',
        unmatched.length ? `The dashboards input names ${unmatched.join(', ')}, which Grafana does not have: check the uid, tag or folder, and that the dashboard is provisioned (its ConfigMap carries the sidecar's label, or its file is mounted).` : '',
        missing.length ? `Panels name datasource${missing.length === 1 ? '' : 's'} ${missing.join(', ')}, which Grafana does not have: a dashboard exported with a fixed uid; give its panels \${datasource} (a datasource variable) or the uid ${ds.uid}.` : '',
        empty.some(({ d }) => d.named) ? 'Every panel of a dashboard named in the dashboards input must return data; an empty panel there fails.' : '',
        v2Hint,
      ].filter((x) => x).join(' ');
      // Waiting helps empty panels (a scrape interval), not a missing datasource or a bad query.
      const retryable = failed.some(({ p }) => p.kind === 'no-data');
      return fail(summary, hint, { code: 'dashboards.failed', failed: failed.length, empty: empty.length, missingDatasources: missing, unmatched }, { ...extra, retryable });
    }
    if (empty.length || notRun || schemaV2.length) {
      const first = empty[0];
      const hint = [
        first ? `"${first.p.title}" on dashboard "${first.d.title}" has no data${first.p.cause ? `: ${first.p.cause}` : ''}.` : '',
        empty.length ? 'Shipped dashboards have panels that are empty on a healthy cluster (no PVCs, no errors); name the dashboards that must show data in the dashboards input to make their empty panels fail.' : '',
        v2Hint,
        notRun ? 'Some panels did not run within the time budget: raise request-timeout, or name fewer dashboards.' : '',
      ].filter((x) => x).join(' ');
      return warn(summary, hint, { code: 'dashboards.empty', empty: empty.length, notRun, ...(schemaV2.length ? { schemaV2: schemaV2.length } : {}) }, extra);
    }
    return pass(summary, extra);
  },
};

/** Why a provisioned dashboard is not in Grafana, in the words of how it should get there. */
function absentCause(d: DashboardResult): string {
  if (d.provisioner === 'grafana-operator') return `${d.cause ?? 'grafana-operator writes it through Grafana\'s API'}.`;
  return d.provisioner === 'sidecar'
    ? "the dashboard sidecar copies it into its folder and asks Grafana to reload: check the sidecar container's log (a JSON it could not write, a reload refused), and that Grafana's dashboards provider reads that folder."
    : "Grafana's file provider reads it from the mounted ConfigMap: check that the dashboards provider's path is where the ConfigMap is mounted, and Grafana's log for the file (invalid JSON, a uid another dashboard has).";
}

const PROVISIONED_VIA: Record<DashboardProvisioner, string> = { file: ', mounted into Grafana', sidecar: ', for the dashboard sidecar', 'grafana-operator': ', applied by grafana-operator' };

/** DashboardResults (failed, no panel) for the dashboards the stack provisions that Grafana does not list. */
async function provisionedButAbsent(ctx: CheckContext): Promise<{ results: DashboardResult[]; notes: string[] }> {
  const site = ctx.stack.grafana;
  if (!site.ok) return { results: [], notes: [] };
  const { workload, sidecar, service } = site.value;
  const [pods, hits] = await Promise.all([ctx.view.pods(workload.namespace, workload.selector), ctx.view.dashboardHits()]);
  const { missingProvisioned } = await import('../dashboards/provisioned.js');
  const place = {
    namespace: workload.namespace,
    ...(service.ok ? { service: service.value.name } : {}),
    ...(workload.owner ? { owner: `${workload.owner.kind} ${workload.owner.name}` } : {}),
  };
  const { missing, notes } = await missingProvisioned(ctx.view, pods[0], sidecar?.container, hits, place);
  return {
    results: missing.map((d) => ({
      uid: d.uid,
      title: d.title,
      named: false,
      status: 'fail' as const,
      source: `${d.source}${PROVISIONED_VIA[d.provisioner]}`,
      problem: `provisioned by ${d.source} but Grafana does not have it`,
      kind: 'not-in-grafana' as const,
      provisioner: d.provisioner,
      ...(d.cause ? { cause: d.cause } : {}),
      // Where to point in the manifests (kept only to place it).
      ...(d.object ? { at: { object: { kind: d.object.kind, namespace: d.object.namespace, name: d.object.name }, ...(d.object.path ? { path: d.object.path } : {}) } } : {}),
      panels: [],
    })),
    notes,
  };
}

/** The dashboards with the file and line of their JSON in the `manifests` (only those that failed or warned). */
async function placeInManifests(ctx: CheckContext, results: DashboardResult[]): Promise<DashboardResult[]> {
  const bad = results.filter((d) => d.status !== 'pass');
  if (!ctx.settings.manifests || !bad.length) return results.map(strip);
  const index = await ctx.manifests().catch(() => undefined);
  return results.map((d) => {
    if (!index || d.status === 'pass') return strip(d);
    const panel = d.panels.find((p) => p.status === d.status) as (PanelResult & { path?: readonly (string | number)[] }) | undefined;
    // The object that provisions it (a GrafanaDashboard, at the field its cause is about), else its JSON.
    const object = (d as Placed).at;
    const at = (object ? index.locate(object) : undefined) ?? (d.uid ? index.locateDashboard(d.uid, panel?.path) : undefined);
    return strip(at ? { ...d, file: at.file, line: at.line } : d);
  });
}

type Placed = DashboardResult & { at?: ObjectPath };

/** A result without what was kept only to place it (the panels' JSON paths, the provisioning object). */
function strip(d: DashboardResult): DashboardResult {
  const { at: _at, ...rest } = d as Placed;
  return { ...rest, panels: d.panels.map(({ path: _path, ...p }: PanelResult & { path?: unknown }) => p) };
}
