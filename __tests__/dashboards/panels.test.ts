import { describe, expect, it } from '@jest/globals';
import { walkPanels } from '../../src/dashboards/panels.js';
import { dashboardRange, panelInterval, parseTime } from '../../src/dashboards/time.js';

const target = (refId: string, expr: string, extra: Record<string, unknown> = {}) => ({ refId, expr, ...extra });

describe('walkPanels', () => {
  it('finds top-level panels, collapsed rows\' panels, expanded rows\' followers and library panels; rows themselves are left out', async () => {
    const loaded: string[] = [];
    const panels = await walkPanels(
      {
        schemaVersion: 39,
        panels: [
          { id: 1, type: 'timeseries', title: 'CPU', targets: [target('A', 'up')] },
          { id: 2, type: 'row', title: 'Expanded', collapsed: false, panels: [] },
          { id: 3, type: 'stat', title: 'After the row', targets: [target('A', 'x', { hide: true }), target('B', 'y', { instant: true })] },
          { id: 4, type: 'row', title: 'Collapsed', collapsed: true, panels: [{ id: 5, type: 'table', title: 'Inside', targets: [target('A', 'z')] }] },
          { id: 6, title: 'Library', gridPos: { w: 6 }, libraryPanel: { uid: 'lib1', name: 'lib' } },
          { id: 7, title: '', libraryPanel: { uid: 'lib1' } },
          { id: 8, title: 'Gone', libraryPanel: { uid: 'nope' } },
        ],
      },
      async (uid) => {
        loaded.push(uid);
        return uid === 'lib1' ? { model: { type: 'timeseries', title: 'From library', datasource: { uid: 'prometheus' }, targets: [target('A', 'lib_metric')] } } : { error: 'Grafana has no library panel nope' };
      },
    );
    expect(panels.map((p) => [p.id, p.title, p.path.join('.')])).toEqual([
      [1, 'CPU', 'panels.0'],
      [3, 'After the row', 'panels.2'],
      [5, 'Inside', 'panels.3.panels.0'],
      [6, 'Library', 'panels.4'],
      [7, 'From library', 'panels.5'],
      [8, 'Gone', 'panels.6'],
    ]);
    expect(loaded).toEqual(['lib1', 'nope']);
    expect(panels[1]?.targets.map((t) => [t.refId, t.hide, t.instant, t.range])).toEqual([
      ['A', true, false, true],
      ['B', false, true, false],
    ]);
    expect(panels[3]).toMatchObject({ libraryUid: 'lib1', datasource: { uid: 'prometheus' }, width: 6, targets: [{ expr: 'lib_metric' }] });
    expect(panels[5]).toMatchObject({ libraryError: 'Grafana has no library panel nope', targets: [] });
  });

  it('reads the rows of dashboards older than schemaVersion 16', async () => {
    const panels = await walkPanels({ schemaVersion: 14, rows: [{ panels: [{ id: 1, title: 'Old', datasource: 'Prometheus', targets: [target('A', 'up')] }] }] }, async () => ({ error: 'none' }));
    expect(panels).toMatchObject([{ id: 1, title: 'Old', datasource: 'Prometheus', path: ['rows', 0, 'panels', 0] }]);
  });
});

describe('time', () => {
  const now = Date.parse('2026-01-01T12:34:56Z');
  it('parses Grafana\'s relative times and computes the interval the frontend sends', () => {
    expect(parseTime('now-1h', now)).toBe(now - 3_600_000);
    expect(parseTime('now-1d/d', now)).toBe(Date.parse('2025-12-31T00:00:00Z'));
    const range = dashboardRange({ from: 'now-1h', to: 'now' }, now);
    expect(range).toMatchObject({ from: 'now-1h', to: 'now', fromMs: now - 3_600_000, toMs: now });
    // A full-width panel: 1920 points over an hour → 1.875 s, rounded to 2 s; a min interval raises it.
    expect(panelInterval(range, { width: 24 }, undefined)).toEqual({ intervalMs: 2000, maxDataPoints: 1920 });
    expect(panelInterval(range, { width: 24, interval: '30s' }, undefined)).toEqual({ intervalMs: 30000, maxDataPoints: 1920 });
    expect(panelInterval(range, { width: 24 }, '1m')).toEqual({ intervalMs: 60000, maxDataPoints: 1920 });
    expect(panelInterval(dashboardRange({ from: 'now-7d' }, now), { maxDataPoints: 100 }, undefined)).toEqual({ intervalMs: 3_600_000 * 2, maxDataPoints: 100 });
  });
});
