/**
 * The GitHub Action: inputs → engine → job summary, annotations, outputs, JSON report, and a
 * failed step when the flow is broken.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as core from '@actions/core';
import { MfcError } from './errors.js';
import { annotationsFor } from './render/annotations.js';
import { outputsFor } from './render/outputs.js';
import { renderSummaryMarkdown } from './render/summary.js';
import { secrets } from './secrets.js';
import { parseSettings } from './settings.js';
import { describeStack } from './stack/describe.js';
import type { CheckResult, Report } from './types.js';

const SECRET_INPUTS = ['kubeconfig', 'grafana-password', 'grafana-token'];

const ICON: Record<CheckResult['status'], string> = { pass: '✓', fail: '✗', warn: '!', skip: '–' };

export async function run(): Promise<void> {
  try {
    secrets.onAdd((value) => core.setSecret(value));
    for (const name of SECRET_INPUTS) secrets.add(core.getInput(name));
    const settings = parseSettings((name) => core.getInput(name));
    core.info(`Checking that metrics flow Prometheus → Grafana (stack: ${settings.stack}, access: ${settings.access}, wait: ${settings.waitMs / 1000} s)`);
    // The engine (Kubernetes client, HTTP stack) is loaded once the inputs are known to be good:
    // a bad input fails the step without parsing it.
    const { runEngine, writeReport } = await import('./engine.js');
    const report = await runEngine(settings, {
      onStack: (stack) => {
        core.info(describeStack(stack));
        for (const line of stack.evidence) core.info(`  ${line}`);
        for (const note of stack.notes) core.info(`  discovery: ${note}`);
      },
      onResult: (r) => core.info(`${ICON[r.status]} ${r.id}: ${r.summary}`),
      onNote: (note) => core.info(`manifests: ${note}`),
    });
    if (report.rootCause) core.info(`Root cause (${report.rootCause.checkId}): ${report.rootCause.cause}`);
    const reportPath = settings.reportPath || join(process.env.RUNNER_TEMP || tmpdir(), 'metrics-flow-check-report.json');
    writeReport(report, reportPath);
    if (settings.junitPath) writeJunit(await import('./render/junit.js'), report, settings.junitPath, settings.failOnWarning);
    for (const [name, value] of Object.entries(outputsFor(report, reportPath))) core.setOutput(name, value);
    for (const a of annotationsFor(report)) {
      const properties = { title: a.title, ...(a.file ? { file: a.file, startLine: a.startLine } : {}) };
      if (a.level === 'error') core.error(a.message, properties);
      else core.warning(a.message, properties);
    }
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(renderSummaryMarkdown(report), true).write();
    if (report.result === 'failed') {
      const failed = report.failedChecks.length ? report.failedChecks.join(', ') : 'warnings (fail-on-warning)';
      core.setFailed(`Metrics do not flow Prometheus → Grafana: ${failed}`);
    }
  } catch (err) {
    core.setFailed(secrets.redact(errorMessage(err)));
  }
}

/** The report as JUnit XML, beside the JSON one (the renderer is loaded only when junit-path is set). */
function writeJunit(junit: typeof import('./render/junit.js'), report: Report, path: string, failOnWarning: boolean): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, junit.renderJunit(report, { failOnWarning }), { mode: 0o644 });
}

function errorMessage(err: unknown): string {
  if (err instanceof MfcError) return err.hint ? `${err.message}\n${err.hint}` : err.message;
  return `metrics-flow-check stopped on an unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}
