import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifests } from '../../src/manifests.js';

const dashboard = JSON.stringify({ uid: 'taskflow', title: 'TaskFlow', panels: [{ id: 1, title: 'Up' }, { id: 2, title: 'Requests' }] }, null, 2);
const configMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: grafana-dashboard-taskflow
  labels:
    grafana_dashboard: "1"
data:
  other.json: '{"uid": "other"}'
  taskflow.json: |
${dashboard.split('\n').map((l) => `    ${l}`).join('\n')}
`;

describe('locateDashboard', () => {
  it("finds the ConfigMap key holding the dashboard's JSON, and the line of a panel inside it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfc-dash-'));
    try {
      writeFileSync(join(dir, 'dashboards.yaml'), configMap);
      const index = await loadManifests('*.yaml', dir);
      const lines = configMap.split('\n');
      const lineOf = (text: string) => lines.findIndex((l) => l.includes(text)) + 1;
      expect(index.locateDashboard('taskflow')).toEqual({ file: 'dashboards.yaml', line: lineOf('"uid": "taskflow"') });
      expect(index.locateDashboard('taskflow', ['panels', 1])).toEqual({ file: 'dashboards.yaml', line: lineOf('"id": 2') - 1 });
      expect(index.locateDashboard('other')).toEqual({ file: 'dashboards.yaml', line: lineOf('other.json') });
      expect(index.locateDashboard('missing')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
