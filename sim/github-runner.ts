/**
 * Runs the bundled action (dist/index.js) the way the GitHub runner does: inputs as INPUT_*
 * variables (action.yml's defaults for the others), outputs and the job summary in files,
 * workflow commands on stdout. Used by the end-to-end tests and the load benchmark. It also
 * measures how long the process lives after it wrote its verdict (a handle left open — a
 * WebSocket, a local server, a timer — keeps a Node process alive, and a runner waits for it).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './cluster.js';

export interface ActionRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Record<string, string>;
  readonly summary: string;
  /** `::error title=…::message` and `::warning …` commands. */
  readonly annotations: { level: string; title: string; message: string; file?: string; line?: number }[];
  /** Values the action asked the runner to mask. */
  readonly masked: string[];
  /** stdout without the `::add-mask::` commands (which the runner consumes and never shows). */
  readonly visibleStdout: string;
  readonly report: Record<string, unknown> | undefined;
  readonly reportText: string;
  /** Every file the run left in its home and temp directories (report, outputs, summary…), concatenated. */
  readonly diskText: string;
  readonly ms: number;
  /** Peak resident memory of the action's process, in MiB. */
  readonly peakRssMiB: number;
  /**
   * Milliseconds from the verdict (the last workflow command on stdout, or the last write of the
   * outputs, summary or report files, whichever came last) to the process's exit.
   */
  readonly exitLagMs: number;
  /** The process was killed at `timeoutMs`. */
  readonly timedOut: boolean;
}

export interface RunActionOptions {
  /**
   * The bundle to run: a directory holding `index.js`, or the file itself. Default
   * `$MFC_ACTION_DIST`, else the repository's `dist/`.
   */
  readonly dist?: string;
  /** Kills the process (SIGKILL) if it is still running this long after it started; `timedOut` says so. */
  readonly timeoutMs?: number;
}

/** The entry script of the bundle to run. */
export function actionEntry(dist = process.env.MFC_ACTION_DIST): string {
  if (!dist) return join(ROOT, 'dist', 'index.js');
  const path = isAbsolute(dist) ? dist : join(ROOT, dist);
  return path.endsWith('.js') ? path : join(path, 'index.js');
}

/** Makes the action's process report its peak resident memory on stderr as it exits. */
const RSS_HOOK = `data:text/javascript,process.on('exit',()=>process.stderr.write('peak-rss-kb='+process.resourceUsage().maxRSS+'\\n'))`;


export async function runAction(inputs: Record<string, string>, extraEnv: Record<string, string> = {}, options: RunActionOptions = {}): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'mfc-action-'));
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    RUNNER_TEMP: dir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_ACTIONS: 'true',
    ...extraEnv,
  };
  // The runner sets every input: the workflow's value, else action.yml's default.
  for (const [name, value] of Object.entries({ ...actionDefaults(), ...inputs })) env[`INPUT_${name.toUpperCase()}`] = value;
  const started = Date.now();
  try {
    const { code, stdout, stderr, lastStdoutAt, exitedAt, timedOut } = await new Promise<{ code: number; stdout: string; stderr: string; lastStdoutAt: number; exitedAt: number; timedOut: boolean }>((done) => {
      const child = spawn(process.execPath, ['--import', RSS_HOOK, actionEntry(options.dist)], { env, cwd: dir });
      let out = '';
      let err = '';
      let lastOut = 0;
      let exited = 0;
      let killed = false;
      const killer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              killed = true;
              child.kill('SIGKILL');
            }, options.timeoutMs);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        lastOut = Date.now();
      });
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('exit', () => (exited = Date.now()));
      child.on('close', (c) => {
        clearTimeout(killer);
        done({ code: c ?? -1, stdout: out, stderr: err, lastStdoutAt: lastOut, exitedAt: exited || Date.now(), timedOut: killed });
      });
    });
    const verdictAt = Math.max(lastStdoutAt, ...filesUnder(dir).map((f) => statSync(f).mtimeMs));
    const outputs = parseOutputs(readFileSync(outputFile, 'utf8'));
    const reportText = outputs.report ? safeRead(outputs.report) : '';
    const rssKb = Number(/peak-rss-kb=(\d+)/.exec(stderr)?.[1] ?? 0);
    return {
      exitCode: code,
      stdout,
      stderr: stderr.replace(/^peak-rss-kb=\d+\n?/m, ''),
      outputs,
      summary: readFileSync(summaryFile, 'utf8'),
      annotations: parseAnnotations(stdout),
      masked: stdout.split('\n').filter((l) => l.startsWith('::add-mask::')).map((l) => l.slice('::add-mask::'.length)),
      visibleStdout: stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n'),
      report: reportText ? (JSON.parse(reportText) as Record<string, unknown>) : undefined,
      reportText,
      diskText: filesUnder(dir).map((f) => readFileSync(f, 'utf8')).join('\n'),
      ms: Date.now() - started,
      peakRssMiB: Math.round(rssKb / 1024),
      exitLagMs: Math.max(0, Math.round(exitedAt - verdictAt)),
      timedOut,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** action.yml's default of every input. */
export function actionDefaults(): Record<string, string> {
  const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> };
  return Object.fromEntries(Object.entries(action.inputs).map(([name, spec]) => [name, String(spec.default ?? '')]));
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Parses `name<<delimiter\nvalue\ndelimiter` blocks of a GITHUB_OUTPUT file. */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i] ?? '');
    if (!m) continue;
    const [, name, delimiter] = m as unknown as [string, string, string];
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '');
    out[name] = value.join('\n');
  }
  return out;
}

function parseAnnotations(stdout: string): ActionRun['annotations'] {
  const decode = (s: string) => s.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
  return stdout
    .split('\n')
    .map((line) => /^::(error|warning|notice)(?: ([^:]*))?::(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      const props = Object.fromEntries((m[2] ?? '').split(',').filter(Boolean).map((p) => p.split('=', 2) as [string, string]));
      return {
        level: m[1] as string,
        title: decode(props.title ?? ''),
        message: decode(m[3] ?? ''),
        ...(props.file ? { file: decode(props.file), line: Number(props.line) } : {}),
      };
    });
}
