/**
 * The command-line tool: the action's engine on a laptop. Flags are named like the action's
 * inputs (`--namespace taskflow`); `--kubeconfig` also takes a file path. Exit codes: 0 all
 * checks passed, 1 a check failed, 2 bad input (or an unreadable kubeconfig).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MfcError, SettingsError } from './errors.js';
import { renderTable, type Lang } from './render/table.js';
import { secrets } from './secrets.js';
import { DEFAULTS, DISCOVERED, parseSettings, type InputName } from './settings.js';

export const EXIT = { passed: 0, failed: 1, badInput: 2 } as const;

export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
}

const INPUT_NAMES = Object.keys(DEFAULTS) as InputName[];

export async function cli(argv: readonly string[], io: CliIO): Promise<number> {
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({
      args: [...argv],
      options: {
        ...Object.fromEntries(INPUT_NAMES.map((name) => [name, { type: 'string' as const }])),
        lang: { type: 'string' },
        color: { type: 'boolean' },
        'no-color': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    io.stderr(`metrics-flow-check: ${err instanceof Error ? err.message : String(err)}\nRun metrics-flow-check --help for the flags.\n`);
    return EXIT.badInput;
  }
  if (flags.help) {
    io.stdout(help());
    return EXIT.passed;
  }
  const lang = (flags.lang ?? 'en') as string;
  if (lang !== 'en' && lang !== 'fr') {
    io.stderr(`metrics-flow-check: --lang must be en or fr, not "${lang}"\n`);
    return EXIT.badInput;
  }
  const color = flags['no-color'] ? false : flags.color ? true : io.isTTY && !io.env.NO_COLOR;
  try {
    for (const name of ['grafana-password', 'grafana-token'] as const) secrets.add(flags[name] as string | undefined);
    const kubeconfig = kubeconfigFlag(flags.kubeconfig as string | undefined);
    const parsed = parseSettings((name) => (name === 'kubeconfig' ? kubeconfig?.content : (flags[name] as string | undefined)));
    const settings = kubeconfig?.file ? Object.freeze({ ...parsed, kubeconfigFile: kubeconfig.file }) : parsed;
    // Loaded once the flags are known to be good: a bad flag exits without parsing the engine.
    const { runEngine, writeReport } = await import('./engine.js');
    const report = await runEngine(settings, {
      onResult: io.isTTY ? (r) => io.stderr(`  ${r.status.padEnd(4)} ${r.id}\n`) : undefined,
      onNote: (note) => io.stderr(`metrics-flow-check: manifests: ${note}\n`),
    });
    if (settings.reportPath) writeReport(report, settings.reportPath);
    if (settings.junitPath) {
      // Loaded only when asked for.
      const { renderJunit } = await import('./render/junit.js');
      mkdirSync(dirname(resolve(settings.junitPath)), { recursive: true });
      writeFileSync(settings.junitPath, renderJunit(report, { failOnWarning: settings.failOnWarning }), { mode: 0o644 });
    }
    io.stdout(renderTable(report, { color, lang: lang as Lang }));
    return report.result === 'passed' ? EXIT.passed : EXIT.failed;
  } catch (err) {
    const text = err instanceof MfcError ? (err.hint ? `${err.message}\n${err.hint}` : err.message) : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
    io.stderr(`metrics-flow-check: ${secrets.redact(text)}\n`);
    return err instanceof SettingsError ? EXIT.badInput : EXIT.failed;
  }
}

/**
 * `--kubeconfig` is a file path on the command line, loaded as a file (as `kubectl --kubeconfig`
 * loads it: its relative paths are its directory's), or — as in the action — YAML or base64.
 */
function kubeconfigFlag(value: string | undefined): { content?: string; file?: string } | undefined {
  if (!value) return undefined;
  const looksLikeContent = value.includes('\n') || /^[A-Za-z0-9+/=\s]{64,}$/.test(value);
  if (looksLikeContent) {
    secrets.add(value);
    return { content: value };
  }
  if (!existsSync(value)) throw new SettingsError('kubeconfig', `file "${value}" does not exist`);
  return { file: resolve(value) };
}

function help(): string {
  const lines = INPUT_NAMES.map((name) => `  --${name.padEnd(24)}${DEFAULTS[name] ? `default: ${DEFAULTS[name]}` : DISCOVERED[name] ? `default: ${DISCOVERED[name]}` : ''}`);
  return [
    'Usage: metrics-flow-check [--flag value]...',
    '',
    'Verifies that metrics flow Prometheus → Grafana in a Kubernetes cluster.',
    'Flags are the action inputs (see the README); --kubeconfig takes a file path, YAML or base64.',
    '',
    ...lines,
    '  --lang                    en (default) or fr',
    '  --color / --no-color      colour the table (default: when stdout is a terminal)',
    '',
    'Exit codes: 0 all checks passed, 1 a check failed, 2 bad input.',
    '',
  ].join('\n');
}
