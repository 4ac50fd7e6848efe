/**
 * A dashboard's time range (`time.from` / `time.to`: `now-1h`, `now/d`, epoch milliseconds, ISO
 * dates) and the query interval Grafana's frontend computes for a panel (rangeutil's
 * calculateInterval and roundInterval), so queries reach Grafana as a dashboard sends them.
 */

export interface TimeRange {
  /** As Grafana is sent them (`now-1h`, `now`, or epoch milliseconds). */
  readonly from: string;
  readonly to: string;
  readonly fromMs: number;
  readonly toMs: number;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, M: 2_592_000_000, y: 31_536_000_000 };

/** `15s`, `1m30s`, `2h`, `500ms`, `1d` → ms; undefined when it is not one. */
export function parseDurationMs(text: string): number | undefined {
  const t = text.trim();
  if (!t) return undefined;
  let total = 0;
  let rest = t;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|M|y)/.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** Grafana's datemath: `now`, `now-6h`, `now-1d/d`, `now/w`, epoch ms, or a date; undefined when unparseable. */
export function parseTime(text: string, nowMs: number, roundUp = false): number | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  if (!t.startsWith('now')) {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : ms;
  }
  let ms = nowMs;
  let rest = t.slice(3);
  while (rest) {
    const op = /^([+-])(\d*)(ms|s|m|h|d|w|M|y)/.exec(rest);
    if (op) {
      const n = (op[2] ? Number(op[2]) : 1) * UNIT_MS[op[3]!]!;
      ms = op[1] === '-' ? ms - n : ms + n;
      rest = rest.slice(op[0].length);
      continue;
    }
    const round = /^\/(s|m|h|d|w|M|y)/.exec(rest);
    if (!round) return undefined;
    const unit = UNIT_MS[round[1]!]!;
    ms = roundUp ? Math.ceil((ms + 1) / unit) * unit - 1 : Math.floor(ms / unit) * unit;
    rest = rest.slice(round[0].length);
  }
  return ms;
}

/** The range of a dashboard's `time` (default `now-6h` to `now`, as Grafana's). */
export function dashboardRange(time: unknown, nowMs: number): TimeRange {
  const t = typeof time === 'object' && time !== null ? (time as Record<string, unknown>) : {};
  const from = typeof t.from === 'string' && t.from ? t.from : 'now-6h';
  const to = typeof t.to === 'string' && t.to ? t.to : 'now';
  const fromMs = parseTime(from, nowMs) ?? nowMs - 6 * 3_600_000;
  const toMs = parseTime(to, nowMs, true) ?? nowMs;
  return { from, to, fromMs, toMs: Math.max(toMs, fromMs + 1000) };
}

/**
 * A panel's own range: `timeFrom` (`1h`, `now-1h`) replaces the dashboard's start, `timeShift`
 * (`1d`) moves both back (PanelModel's relative time overrides).
 */
export function panelRange(range: TimeRange, timeFrom: string | undefined, timeShift: string | undefined, nowMs: number): TimeRange {
  let { from, to, fromMs, toMs } = range;
  if (timeFrom) {
    const relative = timeFrom.startsWith('now') ? timeFrom : `now-${timeFrom}`;
    const ms = parseTime(relative, nowMs);
    if (ms !== undefined) {
      from = relative;
      fromMs = ms;
      to = 'now';
      toMs = nowMs;
    }
  }
  const shift = timeShift ? parseDurationMs(timeShift.replace(/^-/, '')) : undefined;
  if (shift) {
    fromMs -= shift;
    toMs -= shift;
    from = String(Math.round(fromMs));
    to = String(Math.round(toMs));
  }
  return { from, to, fromMs, toMs };
}

/** rangeutil.roundInterval: the "nice" interval near `ms`. */
export function roundInterval(ms: number): number {
  const steps: readonly (readonly [number, number])[] = [
    [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000], [3500, 2000], [7500, 5000],
    [12500, 10000], [17500, 15000], [25000, 20000], [45000, 30000], [90000, 60000], [210000, 120000], [450000, 300000],
    [750000, 600000], [1050000, 900000], [1500000, 1200000], [2700000, 1800000], [5400000, 3600000], [9000000, 7200000],
    [16200000, 10800000], [32400000, 21600000], [86400000, 43200000], [604800000, 86400000], [1814400000, 604800000],
    [3628800000, 2592000000],
  ];
  if (ms <= 10) return 1;
  return steps.find(([bound]) => ms <= bound)?.[1] ?? 31536000000;
}

/** Milliseconds as Grafana writes an interval: `15s`, `1m`, `2h`, `500ms`. */
export function formatDurationMs(ms: number): string {
  for (const [unit, size] of [['y', 31536000000], ['w', 604800000], ['d', 86400000], ['h', 3600000], ['m', 60000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms)}ms`;
}

/**
 * The low limit of a Prometheus datasource's interval in Grafana's frontend, when its "Scrape
 * interval" (`jsonData.timeInterval`) is not set: the Prometheus datasource's own
 * `this.interval = instanceSettings.jsonData.timeInterval || '15s'` (the same in Grafana 9 to 12).
 */
export const PROMETHEUS_DEFAULT_INTERVAL = '15s';

/**
 * The `intervalMs` and `maxDataPoints` Grafana's frontend sends for a panel: maxDataPoints is the
 * panel's own or its width in pixels (on a 1920-pixel screen), the interval the range divided by
 * it, rounded, and never below the low limit: the panel's min interval when it has one, else the
 * panel's datasource's interval (PanelQueryRunner: `minInterval ? … : ds.interval`) — for a
 * Prometheus datasource its scrape interval, 15 s by default; a mixed panel's datasource has none.
 */
export function panelInterval(range: TimeRange, panel: { maxDataPoints?: number; width?: number; interval?: string }, dsInterval: string | undefined): { intervalMs: number; maxDataPoints: number } {
  const maxDataPoints = panel.maxDataPoints && panel.maxDataPoints > 0 ? panel.maxDataPoints : Math.max(100, Math.round(((panel.width ?? 12) / 24) * 1920));
  // rangeutil.calculateInterval: no low limit (1 ms) unless the panel or its datasource has one.
  const lowLimit = (panel.interval && !panel.interval.includes('$') ? parseDurationMs(panel.interval.replace(/^>/, '')) : undefined) ?? (dsInterval ? parseDurationMs(dsInterval) : undefined) ?? 1;
  const raw = (range.toMs - range.fromMs) / maxDataPoints;
  return { intervalMs: Math.max(lowLimit, roundInterval(raw)), maxDataPoints };
}
