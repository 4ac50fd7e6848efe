/**
 * A dashboard's panels, as Grafana's frontend finds them in the dashboard JSON: top-level
 * panels, the panels of collapsed rows (`type: row` with `panels[]`; an expanded row is followed
 * by its panels at top level), the `rows[].panels[]` of dashboards older than schemaVersion 16,
 * and library panels (`libraryPanel: {uid}`, whose model Grafana keeps apart and loads by uid).
 */

export type Json = Record<string, unknown>;

/** One query of a panel, as it is in the JSON. */
export interface TargetModel {
  readonly refId: string;
  readonly expr: string;
  readonly hide: boolean;
  /** The target's own datasource (mixed panels), as written. */
  readonly datasource: unknown;
  readonly instant: boolean;
  readonly range: boolean;
  readonly format?: string;
  readonly interval?: string;
  readonly legendFormat?: string;
  readonly intervalFactor?: number;
  readonly exemplar?: boolean;
}

/** One panel that can hold queries. */
export interface PanelModel {
  readonly id: number;
  readonly title: string;
  readonly type: string;
  /** The panel's datasource, as written (`{type, uid}`, a name, `${ds}`, null). */
  readonly datasource: unknown;
  readonly targets: readonly TargetModel[];
  /** Where it is in the JSON: `panels[3]`, `panels[5].panels[0]`, `rows[1].panels[2]`. */
  readonly path: readonly (string | number)[];
  /** The library panel it comes from. */
  readonly libraryUid?: string;
  /** A library panel whose element could not be read: why. */
  readonly libraryError?: string;
  readonly maxDataPoints?: number;
  readonly interval?: string;
  readonly timeFrom?: string;
  readonly timeShift?: string;
  /** Width in grid units (of 24). */
  readonly width?: number;
  /** `repeat`: the variable the panel is repeated over. */
  readonly repeat?: string;
}

/** A library element's panel model (GET /api/library-elements/:uid `result.model`), or why not. */
export type LibraryLoader = (uid: string) => Promise<{ model: Json } | { error: string }>;

export function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** Every panel of the dashboard JSON, in the order Grafana lays them out, rows themselves left out. */
export function rawPanels(dashboard: Json): { panel: Json; path: (string | number)[] }[] {
  const out: { panel: Json; path: (string | number)[] }[] = [];
  const visit = (list: unknown, path: (string | number)[]): void => {
    if (!Array.isArray(list)) return;
    list.forEach((panel, i) => {
      if (!isRecord(panel)) return;
      const here = [...path, i];
      if (panel.type === 'row') {
        // A collapsed row keeps its panels inside; an expanded row's follow it at top level.
        visit(panel.panels, [...here, 'panels']);
        return;
      }
      out.push({ panel, path: here });
      // Old "graph" panels never nest; nothing else to visit.
    });
  };
  visit(dashboard.panels, ['panels']);
  // schemaVersion < 16: rows[].panels[] (Grafana's migration turns each row into a row panel).
  if (Array.isArray(dashboard.rows)) dashboard.rows.forEach((row, r) => isRecord(row) && visit(row.panels, ['rows', r, 'panels']));
  return out;
}

function targetOf(t: Json, index: number): TargetModel {
  const refId = str(t.refId) || String.fromCharCode(65 + (index % 26));
  const instant = t.instant === true;
  // Grafana's Prometheus query: range unless only instant is asked for.
  const range = t.range === true || (t.range !== false && !instant);
  return {
    refId,
    expr: str(t.expr),
    hide: t.hide === true,
    datasource: t.datasource,
    instant,
    range,
    ...(typeof t.format === 'string' ? { format: t.format } : {}),
    ...(typeof t.interval === 'string' && t.interval ? { interval: t.interval } : {}),
    ...(typeof t.legendFormat === 'string' ? { legendFormat: t.legendFormat } : {}),
    ...(num(t.intervalFactor) !== undefined ? { intervalFactor: num(t.intervalFactor) } : {}),
    ...(t.exemplar === true ? { exemplar: true } : {}),
  };
}

function panelOf(panel: Json, path: (string | number)[], library?: { uid: string; model?: Json; error?: string }): PanelModel {
  // A library panel: its model supplies datasource and targets; the dashboard's panel its id, place and (when set) title.
  const source = library?.model ? { ...library.model, ...pick(panel, ['id', 'gridPos']), title: str(panel.title) || str(library.model.title) } : panel;
  const targets = Array.isArray(source.targets) ? source.targets.filter(isRecord).map(targetOf) : [];
  const grid = isRecord(source.gridPos) ? source.gridPos : undefined;
  return {
    id: num(panel.id) ?? 0,
    title: str(source.title) || `panel ${num(panel.id) ?? '?'}`,
    type: str(source.type),
    datasource: source.datasource,
    targets,
    path,
    ...(library ? { libraryUid: library.uid } : {}),
    ...(library?.error ? { libraryError: library.error } : {}),
    ...(num(source.maxDataPoints) !== undefined ? { maxDataPoints: num(source.maxDataPoints) } : {}),
    ...(typeof source.interval === 'string' && source.interval ? { interval: source.interval } : {}),
    ...(typeof source.timeFrom === 'string' && source.timeFrom ? { timeFrom: source.timeFrom } : {}),
    ...(typeof source.timeShift === 'string' && source.timeShift ? { timeShift: source.timeShift } : {}),
    ...(grid && num(grid.w) !== undefined ? { width: num(grid.w) } : {}),
    ...(typeof source.repeat === 'string' && source.repeat ? { repeat: source.repeat } : {}),
  };
}

function pick(o: Json, keys: readonly string[]): Json {
  return Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));
}

/**
 * The dashboard's panels with their queries, library panels loaded (each element once). A
 * library element that cannot be read leaves the panel with `libraryError` and no targets.
 */
export async function walkPanels(dashboard: Json, loadLibrary: LibraryLoader): Promise<PanelModel[]> {
  const raw = rawPanels(dashboard);
  const elements = new Map<string, Promise<{ model: Json } | { error: string }>>();
  return Promise.all(
    raw.map(async ({ panel, path }) => {
      const ref = isRecord(panel.libraryPanel) ? str(panel.libraryPanel.uid) : '';
      if (!ref) return panelOf(panel, path);
      let loading = elements.get(ref);
      if (!loading) {
        loading = loadLibrary(ref).catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }));
        elements.set(ref, loading);
      }
      const element = await loading;
      return 'model' in element ? panelOf(panel, path, { uid: ref, model: element.model }) : panelOf(panel, path, { uid: ref, error: element.error });
    }),
  );
}
