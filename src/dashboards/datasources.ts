/**
 * Which datasource a panel or a query uses, resolved as Grafana's frontend resolves it
 * (DatasourceSrv.getInstanceSettings): a `{type, uid}` reference, a legacy name (or uid) string,
 * a `${ds}` / `$ds` / `[[ds]]` variable of type `datasource`, `default`, or nothing at all — the
 * default datasource. `-- Mixed --` means each query names its own; `-- Grafana --` and
 * `-- Dashboard --` are Grafana's built-ins, never Prometheus.
 */
import type { GrafanaDatasource } from '../grafana.js';
import { isRecord } from './panels.js';

export const MIXED = '-- Mixed --';
const BUILT_IN = new Set(['-- Grafana --', 'grafana', '-- Dashboard --']);

export type DatasourceChoice =
  | { readonly kind: 'ds'; readonly ds: GrafanaDatasource }
  | { readonly kind: 'mixed' }
  | { readonly kind: 'built-in'; readonly name: string }
  /** A uid or name Grafana does not have (the panel fails: "Datasource X was not found"). */
  | { readonly kind: 'missing'; readonly ref: string }
  /** No default datasource, and the panel names none. */
  | { readonly kind: 'no-default' };

/** Grafana's variable syntax: `$name`, `[[name]]`, `${name}` / `${name:format}`. */
export const VARIABLE_PATTERN = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

export class Datasources {
  constructor(readonly all: readonly GrafanaDatasource[]) {}

  get default(): GrafanaDatasource | undefined {
    return this.all.find((d) => d.isDefault);
  }

  /** By uid, else by name (getInstanceSettings accepts either). */
  find(ref: string): GrafanaDatasource | undefined {
    return this.all.find((d) => d.uid === ref) ?? this.all.find((d) => d.name === ref);
  }

  /**
   * `raw` as written in the JSON; `vars` interpolates variables (a datasource variable gives its
   * datasource's uid). `inherited` is what a query without its own datasource uses: its panel's.
   */
  resolve(raw: unknown, interpolate: (text: string) => string, inherited?: DatasourceChoice): DatasourceChoice {
    if (raw === null || raw === undefined || raw === '') return inherited ?? this.defaultChoice();
    let ref = '';
    let type = '';
    if (typeof raw === 'string') ref = raw;
    else if (isRecord(raw)) {
      ref = typeof raw.uid === 'string' ? raw.uid : '';
      type = typeof raw.type === 'string' ? raw.type : '';
      if (!ref && !type) return inherited ?? this.defaultChoice();
    } else return inherited ?? this.defaultChoice();
    const text = interpolate(ref).trim();
    if (text === MIXED) return { kind: 'mixed' };
    if (BUILT_IN.has(text) || type === 'datasource' || type === 'grafana') return { kind: 'built-in', name: text || type };
    if (!text) {
      // `{type}` without uid: the default when it has that type, else the first of the type.
      const d = this.default;
      const byType = d && d.type === type ? d : this.all.find((x) => x.type === type);
      return byType ? { kind: 'ds', ds: byType } : { kind: 'missing', ref: type };
    }
    if (text.toLowerCase() === 'default') return this.defaultChoice();
    const found = this.find(text);
    return found ? { kind: 'ds', ds: found } : { kind: 'missing', ref: text };
  }

  private defaultChoice(): DatasourceChoice {
    const d = this.default;
    return d ? { kind: 'ds', ds: d } : { kind: 'no-default' };
  }
}
