/**
 * How Grafana's Prometheus datasource turns a panel query into Prometheus parameters
 * (pkg/promlib/models): the time range (`now-5m`, `now`, epoch milliseconds), the step
 * (intervalMs / the datasource's timeInterval / 15s, widened to range/maxDataPoints and to
 * range/11000, rounded like Grafana's interval calculator), the built-in `$__…` variables the
 * backend replaces in the expression, and Go's duration text for `executedQueryString`.
 */

export interface PrometheusQuery {
  readonly refId: string;
  readonly expr: string;
  readonly instant: boolean;
  readonly range: boolean;
  readonly legendFormat: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly stepMs: number;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  M: 2_592_000_000,
  y: 31_536_000_000,
};

/** `now`, `now-5m`, `now+1h` or epoch milliseconds; undefined when unparseable. */
export function parseTime(text: string, nowMs: number): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const match = /^now(?:([+-])(\d+)(ms|s|m|h|d|w|M|y))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, sign, amount, unit] = match;
  if (!sign || !amount || !unit) return nowMs;
  const offset = Number(amount) * UNIT_MS[unit]!;
  return sign === '-' ? nowMs - offset : nowMs + offset;
}

/** Go's `gtime.ParseDuration` subset used for intervals: `15s`, `1m`, `500ms`, `2h`. */
function parseDurationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|M|y)$/.exec(text.trim());
  return match ? Number(match[1]) * UNIT_MS[match[2]!]! : undefined;
}

/** Upper bound (inclusive, except the last) → rounded interval, in ms (intervalv2.roundInterval). */
const ROUNDING: readonly (readonly [number, number])[] = [
  [10, 1], [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000],
  [3500, 2000], [7500, 5000], [12500, 10000], [17500, 15000], [25000, 20000], [45000, 30000],
  [90000, 60000], [210000, 120000], [450000, 300000], [750000, 600000], [1050000, 900000],
  [1500000, 1200000], [2700000, 1800000], [5400000, 3600000], [9000000, 7200000],
  [16200000, 10800000], [32400000, 21600000], [86400000, 43200000], [172800000, 86400000],
  [604800000, 86400000], [1814400000, 604800000], [3628800000 - 1, 2592000000],
];

function roundInterval(ms: number): number {
  return ROUNDING.find(([bound]) => ms <= bound)?.[1] ?? 31536000000;
}

const SAFE_RESOLUTION = 11000;
const DEFAULT_MIN_INTERVAL_MS = 15000;

export interface StepInputs {
  readonly fromMs: number;
  readonly toMs: number;
  readonly intervalMs: number;
  readonly maxDataPoints: number;
  /** The query's own `interval` (min step) and the datasource's `jsonData.timeInterval`. */
  readonly queryInterval: string;
  readonly dsTimeInterval: string;
  readonly intervalFactor: number;
}

export function calculateStepMs(inputs: StepInputs): number {
  const span = inputs.toMs - inputs.fromMs;
  const explicit = inputs.queryInterval.startsWith('$') ? '' : inputs.queryInterval;
  const minInterval =
    (explicit ? parseDurationMs(explicit) : undefined) ??
    (inputs.intervalMs > 0 ? inputs.intervalMs : undefined) ??
    (inputs.dsTimeInterval ? parseDurationMs(inputs.dsTimeInterval) : undefined) ??
    DEFAULT_MIN_INTERVAL_MS;
  const raw = span / (inputs.maxDataPoints > 0 ? inputs.maxDataPoints : 1500);
  const calculated = raw < minInterval ? minInterval : roundInterval(raw);
  const safe = roundInterval(span / SAFE_RESOLUTION);
  const adjusted = Math.max(calculated, safe);
  // A `$__rate_interval` min step makes the step the rate interval itself, not scaled by the factor.
  if (RATE_INTERVAL.includes(inputs.queryInterval)) {
    return rateIntervalMs(adjusted, inputs.dsTimeInterval);
  }
  return adjusted * (inputs.intervalFactor > 0 ? inputs.intervalFactor : 1);
}

/** Go's `time.Duration.String()` for a whole number of milliseconds: `15s`, `1m0s`, `500ms`. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** Go's `strconv.FormatFloat(seconds, 'f', -1, 64)` of a time in ms, as Grafana sends it. */
export function promTime(ms: number): string {
  return String(ms / 1000);
}

/** Floors a time to a multiple of the step, like Grafana's AlignTimeRange. */
export function alignToStep(ms: number, stepMs: number): number {
  return Math.floor(ms / stepMs) * stepMs;
}

/** gtime.FormatInterval: the largest unit the interval reaches, truncated (`90s` → `1m`). */
export function formatInterval(ms: number): string {
  const units: [number, string][] = [[31_536_000_000, 'y'], [86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1000, 's'], [1, 'ms']];
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return '1ms';
}

const RATE_INTERVAL = ['$__rate_interval', '${__rate_interval}'];

/**
 * calculateRateInterval (pkg/promlib/models/query.go): max(interval + scrape, 4 × scrape), the
 * scrape interval being the given minimum step, else 15s.
 */
export function rateIntervalMs(intervalMs: number, minStep: string): number {
  const scrape = parseDurationMs(minStep || '15s');
  if (scrape === undefined) return 0;
  return Math.max(intervalMs + scrape, 4 * scrape);
}

export interface MacroInputs {
  /** The final step (calculatePrometheusInterval). */
  readonly stepMs: number;
  /** The request's `intervalMs` (the frontend's interval; Grafana's default 1000). */
  readonly intervalMs: number;
  /** The query's own `interval` ("Min step"), as written. */
  readonly queryInterval: string;
  /** The datasource's `jsonData.timeInterval` (its scrape interval). */
  readonly dsTimeInterval: string;
  readonly rangeMs: number;
  /**
   * 9.x's pkg/tsdb/prometheus: `$__rate_interval` from the step and the scrape interval, and no
   * `$__rate_interval_ms`; 10.0 and later (pkg/promlib): from the request's interval.
   */
  readonly legacy?: boolean;
}

/**
 * The built-in variables Grafana's Prometheus backend replaces in a query's expression
 * (InterpolateVariables, pkg/promlib/models/query.go): `$__interval` (the step, gtime
 * FormatInterval), `$__interval_ms`, `$__range` (`<seconds>s`, rounded), `$__range_s`,
 * `$__range_ms`, `$__rate_interval` (Go's Duration text: `1m0s`) and `$__rate_interval_ms`, each
 * also as `${…}`. Template variables (`$cluster`, `${datasource}`) are the frontend's to replace:
 * the backend leaves them as they are.
 */
export function interpolateMacros(expr: string, inputs: MacroInputs): string {
  const { stepMs, rangeMs } = inputs;
  const rangeS = Math.round(rangeMs / 1000);
  let rateMs: number;
  if (RATE_INTERVAL.includes(inputs.queryInterval)) {
    rateMs = stepMs;
  } else if (inputs.legacy) {
    rateMs = rateIntervalMs(stepMs, inputs.dsTimeInterval);
  } else {
    let minStep = inputs.queryInterval;
    if (minStep === '$__interval' || minStep === '${__interval}') minStep = goDuration(stepMs);
    if (minStep === '') minStep = inputs.dsTimeInterval;
    rateMs = rateIntervalMs(inputs.intervalMs, minStep);
  }
  const pairs: [string, string][] = [
    ['__interval_ms', String(stepMs)],
    ['__interval', formatInterval(stepMs)],
    ['__range_ms', String(rangeMs)],
    ['__range_s', String(rangeS)],
    ['__range', `${rangeS}s`],
    ...(inputs.legacy ? [] : ([['__rate_interval_ms', String(rateMs)]] as [string, string][])),
    ['__rate_interval', goDuration(rateMs)],
  ];
  let out = expr;
  for (const [name, value] of pairs) out = out.replaceAll(`$${name}`, value);
  for (const [name, value] of pairs) out = out.replaceAll(`\${${name}}`, value);
  return out;
}
