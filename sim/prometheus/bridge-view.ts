/**
 * What Prometheus's HTTP API would answer if it ran the `kubernetes_sd_configs` that
 * `bridgeKubernetesSd` replaced with `http_sd_configs` (see config.ts):
 *
 * - `GET /api/v1/status/config` (web/api/v1/api.go serveConfig: `Config.String()`, yaml.v2):
 *   each bridged `http_sd_configs` entry is taken out (the key too when none is left) and the
 *   `kubernetes_sd_configs` entries it stands for are written where the marshaller writes them:
 *   discovery/registry.go appends every `<name>_sd_configs` field after the struct's own fields,
 *   sorted by name, so the key goes before the first discovery key that sorts after it.
 *   Everything else is left byte for byte.
 * - `GET /api/v1/targets`: discovery/http adds `__meta_url` (the SD URL) to every target it
 *   finds; Kubernetes discovery does not, so it is dropped from `discoveredLabels`.
 * - `GET /api/v1/status/flags`: the flags the process was given to sit behind the front
 *   (`web.listen-address`, `web.external-url`) are shown as the pod's Prometheus has them.
 */
import type { BridgedEntry } from './config.js';
import { goJson, goJsonString } from './go-json.js';
import { goYamlEntry, seq } from './go-yaml.js';
import { kubernetesSdNode } from './kubernetes-sd-yaml.js';

export interface BridgeViewOptions {
  /** Base URL of the SD server: every bridged `url` starts with it. */
  sdBaseUrl: string;
  /** Directory of the configuration file (relative file names are joined to it). */
  configDir: string;
  /** Flag values to show instead of the process's, e.g. `{'web.listen-address': '127.0.0.5:9090'}`. */
  flags?: Record<string, string>;
}

const KUBERNETES_KEY = 'kubernetes_sd_configs';

const indentOf = (line: string): number => line.length - line.trimStart().length;
const isBlank = (line: string): boolean => line.trim() === '';
const isDiscoveryKey = (key: string): boolean => key.endsWith('_sd_configs') || key === 'static_configs';

/** A yaml.v2 scalar as written on a line: plain, 'single' or "double" quoted. */
function scalarValue(text: string): string {
  if (text.startsWith("'") && text.endsWith("'")) return text.slice(1, -1).replaceAll("''", "'");
  if (text.startsWith('"') && text.endsWith('"')) {
    try {
      return JSON.parse(text) as string;
    } catch {
      return text.slice(1, -1);
    }
  }
  return text;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export class BridgeView {
  private readonly entries = new Map<string, BridgedEntry>();
  private readonly metaUrl: RegExp;

  constructor(private readonly opts: BridgeViewOptions) {
    const base = goJsonString(opts.sdBaseUrl.replace(/\/+$/, '')).slice(1, -1);
    this.metaUrl = new RegExp(`(,?)"__meta_url":"${escapeRegExp(base)}/(?:[^"\\\\]|\\\\.)*"(,?)`, 'g');
  }

  /** Entries of a configuration that was (or will be) loaded. Earlier ones are kept: a rejected reload leaves them in use. */
  add(entries: readonly BridgedEntry[]): void {
    for (const entry of entries) this.entries.set(entry.url, entry);
  }

  /** The marshalled configuration with the bridged entries shown as `kubernetes_sd_configs`. */
  statusConfigYaml(yaml: string): string {
    const lines = yaml.split('\n');
    const edits: Array<{ from: number; to: number; lines: string[] }> = [];
    for (let k = 0; k < lines.length; k++) {
      const key = /^( *)http_sd_configs:$/.exec(lines[k]!);
      if (!key) continue;
      const indent = key[1]!.length;
      const pad = ' '.repeat(indent);
      // The entries: `- ` items at the key's column (yaml.v2 does not indent them), each with
      // its deeper lines.
      const items: Array<{ start: number; end: number }> = [];
      let j = k + 1;
      for (; j < lines.length; j++) {
        const line = lines[j]!;
        if (isBlank(line) || indentOf(line) > indent) continue;
        if (indentOf(line) === indent && line.startsWith(`${pad}- `)) {
          items.push({ start: j, end: j });
          continue;
        }
        break;
      }
      let end = j;
      while (end > k + 1 && isBlank(lines[end - 1]!)) end--;
      items.forEach((item, i) => (item.end = i + 1 < items.length ? items[i + 1]!.start : end));
      const bridged: BridgedEntry[] = [];
      const kept: string[] = [];
      for (const item of items) {
        const body = lines.slice(item.start, item.end);
        const urlLine = body.find((l, i) => (i === 0 ? l.startsWith(`${pad}- url: `) : l.startsWith(`${pad}  url: `)));
        const source = urlLine === undefined ? undefined : this.entries.get(scalarValue(urlLine.slice(urlLine.indexOf('url: ') + 5)));
        if (source) bridged.push(source);
        else kept.push(...body);
      }
      if (bridged.length === 0) continue;

      // Where kubernetes_sd_configs goes: before the first later discovery key of the same
      // holder that sorts after it, else at the holder's end.
      let at = end;
      for (; at < lines.length; at++) {
        const line = lines[at]!;
        if (isBlank(line) || indentOf(line) > indent) continue;
        if (indentOf(line) < indent) break;
        if (line.startsWith(`${pad}- `)) continue;
        const name = line.slice(indent, line.indexOf(':'));
        if (isDiscoveryKey(name) && name > KUBERNETES_KEY) break;
      }
      while (at > end && isBlank(lines[at - 1]!)) at--;

      bridged.sort((a, b) => a.index - b.index);
      const value = seq(bridged.map((s) => kubernetesSdNode(s.entry, this.opts.configDir)));
      const block = goYamlEntry(KUBERNETES_KEY, value, indent).replace(/\n$/, '').split('\n');
      edits.push({ from: k, to: end, lines: kept.length ? [lines[k]!, ...kept] : [] });
      edits.push({ from: at, to: at, lines: block });
      k = end - 1;
    }
    if (edits.length === 0) return yaml;
    for (const edit of edits.reverse()) lines.splice(edit.from, edit.to - edit.from, ...edit.lines);
    return lines.join('\n');
  }

  /** `GET /api/v1/status/config`'s body. */
  statusConfigJson(body: string): string {
    const answer = parseAnswer(body);
    const data = answer?.data as { yaml?: unknown } | undefined;
    if (answer?.status !== 'success' || typeof data?.yaml !== 'string') return body;
    const yaml = this.statusConfigYaml(data.yaml);
    if (yaml === data.yaml) return body;
    data.yaml = yaml;
    return goJson(answer);
  }

  /** `GET /api/v1/targets`'s body: the SD URL label is not among the discovered labels. */
  targetsJson(body: string): string {
    return body.replace(this.metaUrl, (_all, before: string, after: string) => (before && after ? ',' : ''));
  }

  /** `GET /api/v1/status/flags`'s body. */
  flagsJson(body: string): string {
    const answer = parseAnswer(body);
    const data = answer?.data as Record<string, unknown> | undefined;
    if (answer?.status !== 'success' || typeof data !== 'object' || data === null) return body;
    let changed = false;
    for (const [name, value] of Object.entries(this.opts.flags ?? {})) {
      if (name in data && data[name] !== value) {
        data[name] = value;
        changed = true;
      }
    }
    return changed ? goJson(answer) : body;
  }
}

function parseAnswer(body: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
