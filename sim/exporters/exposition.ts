/**
 * Prometheus text exposition format 0.0.4: metric families rendered as `# HELP`, `# TYPE` and
 * sample lines. A sample line may end with its own timestamp, in milliseconds since the epoch
 * (`metric{labels} value [timestamp]`, exposition_formats.md); Prometheus then stores the sample
 * at that time instead of the scrape's when the job honours timestamps (`honor_timestamps`,
 * true by default), and keeps no staleness tracking for it (scrape/scrape.go: "Bypass staleness
 * logic if there is an explicit timestamp").
 */

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** Suffix appended to the family name (`_bucket`, `_sum`, `_count`), empty for plain samples. */
  suffix?: string;
  labels?: Record<string, string>;
  value: number;
  /** An explicit timestamp (ms since the epoch), written after the value. */
  timestampMs?: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

export function renderFamilies(families: MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const stamp = sample.timestampMs === undefined ? '' : ` ${Math.round(sample.timestampMs)}`;
      lines.push(`${family.name}${sample.suffix ?? ''}${formatLabels(sample.labels)} ${formatValue(sample.value)}${stamp}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** Cumulative histogram samples (`_bucket` with `le`, `_sum`, `_count`) from raw bucket counts. */
export function histogramSamples(
  bounds: number[],
  counts: number[],
  sum: number,
  labels: Record<string, string> = {},
): Sample[] {
  const samples: Sample[] = [];
  let cumulative = 0;
  bounds.forEach((bound, i) => {
    cumulative += counts[i] ?? 0;
    samples.push({ suffix: '_bucket', labels: { ...labels, le: formatValue(bound) }, value: cumulative });
  });
  cumulative += counts[bounds.length] ?? 0;
  samples.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: cumulative });
  samples.push({ suffix: '_sum', labels, value: sum });
  samples.push({ suffix: '_count', labels, value: cumulative });
  return samples;
}
