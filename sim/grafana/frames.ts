/**
 * Prometheus API answers → Grafana data frames, as pkg/promlib's converter and parseResponse
 * build them and the plugin SDK serialises them: one frame per series with a `Time` and a
 * value field carrying the series labels; NaN/±Inf become `null` plus `entities`; the first
 * frame carries `executedQueryString`. With the `prometheusDataplane` feature (on by default
 * in Grafana 11) vector frames are `numeric-multi`, frames have typeVersion [0,1] and the value
 * field is named after `__name__`; without it every frame is `timeseries-multi` and is named
 * after the series.
 */
import type { PrometheusQuery } from './query-model.js';
import { goDuration } from './query-model.js';

export interface FrameField {
  name: string;
  type: 'time' | 'number' | 'string';
  typeInfo: { frame: string };
  labels?: Record<string, string>;
  config?: Record<string, unknown>;
}

export interface Frame {
  schema: { name?: string; refId: string; meta: Record<string, unknown>; fields: FrameField[] };
  data: { values: unknown[][]; entities?: (Record<string, number[]> | null)[] };
}

/** One `results[refId]` entry of a /api/ds/query answer. */
export interface DataResponse {
  status: number;
  frames?: Frame[];
  error?: string;
  errorSource?: 'downstream' | 'plugin';
}

interface Series {
  labels: Record<string, string>;
  samples: [number, string][];
}

function sortedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `up{instance="x", job="y"}`, the legend Grafana derives when no legendFormat is set. */
function metricName(labels: Record<string, string>): string {
  const { __name__: name = '', ...rest } = labels;
  const pairs = Object.keys(rest)
    .sort()
    .map((key) => `${key}=${JSON.stringify(rest[key])}`);
  if (pairs.length === 0) return name === '' ? '{}' : name;
  return `${name}{${pairs.join(', ')}}`;
}

function displayName(query: PrometheusQuery, labels: Record<string, string>): string {
  let legend = metricName(labels);
  if (query.legendFormat === '__auto') {
    if (Object.keys(labels).length > 0) legend = '';
  } else if (query.legendFormat !== '') {
    legend = query.legendFormat.replace(/\{\{\s*(.+?)\s*\}\}/g, (_m, label: string) => labels[label] ?? '');
  }
  return legend === '{}' ? query.expr : legend;
}

interface NumericColumn {
  column: (number | null)[];
  entities?: Record<string, number[]>;
}

/** Float64 column: NaN and ±Inf are written as null and listed in the field's `entities`. */
function numericColumn(samples: readonly [number, string][]): NumericColumn {
  const entities: Record<string, number[]> = {};
  const column = samples.map(([, text], index) => {
    const value = Number(text === '+Inf' ? 'Infinity' : text === '-Inf' ? '-Infinity' : text);
    if (Number.isFinite(value)) return value;
    const entity = Number.isNaN(value) ? 'NaN' : value > 0 ? 'Inf' : 'NegInf';
    (entities[entity] ??= []).push(index);
    return null;
  });
  return Object.keys(entities).length > 0 ? { column, entities } : { column };
}

function frameType(resultType: string, dataplane: boolean): string {
  if (resultType === 'scalar' || (resultType === 'vector' && dataplane)) return 'numeric-multi';
  return 'timeseries-multi';
}

function seriesFrame(
  query: PrometheusQuery,
  series: Series,
  resultType: string,
  valueType: 'number' | 'string',
  dataplane: boolean,
): Frame {
  const labels = sortedLabels(series.labels);
  const customName = displayName(query, labels);
  const valueField: FrameField = {
    name: dataplane && labels.__name__ !== undefined ? labels.__name__ : 'Value',
    type: valueType,
    typeInfo: { frame: valueType === 'number' ? 'float64' : 'string' },
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(customName !== '' ? { config: { displayNameFromDS: customName } } : {}),
  };
  const times = series.samples.map(([t]) => Math.trunc(t * 1000));
  const numeric = valueType === 'number' ? numericColumn(series.samples) : undefined;
  return {
    schema: {
      ...(dataplane ? {} : { name: customName }),
      refId: query.refId,
      meta: { type: frameType(resultType, dataplane), typeVersion: dataplane ? [0, 1] : [0, 0], custom: { resultType } },
      fields: [
        { name: 'Time', type: 'time', typeInfo: { frame: 'time.Time' }, config: { interval: query.stepMs } },
        valueField,
      ],
    },
    data: {
      values: [times, numeric ? numeric.column : series.samples.map(([, v]) => v)],
      ...(numeric?.entities ? { entities: [null, numeric.entities] } : {}),
    },
  };
}

function emptyFrame(refId: string): Frame {
  return { schema: { refId, meta: { typeVersion: [0, 0] }, fields: [] }, data: { values: [] } };
}

/** jsoniter's complaint about a body that is not JSON. */
function notJsonError(body: string): string {
  const first = body.charAt(0) || 'EOF';
  return (
    `ReadObject: expect { or , or } or n, but found ${first}, error found in #1 byte of ` +
    `...|${body.slice(0, 10)}|..., bigger context ...|${body.slice(0, 50)}|...`
  );
}

function readSeries(resultType: string, result: unknown): Series[] | undefined {
  if (resultType === 'scalar' || resultType === 'string') {
    const pair = result as [number, string];
    return [{ labels: {}, samples: [[Number(pair[0]), String(pair[1])]] }];
  }
  if (resultType !== 'vector' && resultType !== 'matrix' || !Array.isArray(result)) return undefined;
  return result.map((item: { metric?: Record<string, string>; value?: [number, string]; values?: [number, string][] }) => ({
    labels: item.metric ?? {},
    samples: resultType === 'vector' ? (item.value ? [item.value] : []) : (item.values ?? []),
  }));
}

/**
 * Converts one Prometheus HTTP answer. The response status is Prometheus's HTTP status; an
 * error envelope becomes `"<errorType>: <error>"`.
 */
export function toDataResponse(query: PrometheusQuery, status: number, body: string, dataplane: boolean): DataResponse {
  let frames: Frame[] = [];
  let error: string | undefined;
  let envelope: { status?: string; errorType?: string; error?: string; data?: { resultType?: string; result?: unknown } };
  try {
    envelope = JSON.parse(body) as typeof envelope;
  } catch {
    envelope = {};
    error = notJsonError(body);
  }
  if (envelope.status === 'error') {
    error = `${envelope.errorType ?? ''}: ${envelope.error ?? ''}`;
  } else if (error === undefined && envelope.data) {
    const resultType = envelope.data.resultType ?? '';
    const series = readSeries(resultType, envelope.data.result);
    if (series) {
      const valueType = resultType === 'string' ? 'string' : 'number';
      frames = series.map((s) => seriesFrame(query, s, resultType, valueType, dataplane));
    } else {
      error = resultType === '' ? 'no resultType found' : `unknown result type: ${resultType}`;
    }
  }
  if (frames.length === 0) frames.push(emptyFrame(query.refId));
  frames[0]!.schema.meta.executedQueryString = `Expr: ${query.expr}\nStep: ${goDuration(query.stepMs)}`;
  const response: DataResponse = { status, frames };
  if (error !== undefined) {
    response.error = error;
    response.errorSource = status >= 400 ? 'downstream' : 'plugin';
  }
  return response;
}
