/**
 * Lifetime of the Prometheus processes and their temporary directories: nothing outlives the
 * process that started it, even when that process dies without stopping them.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;

/**
 * Prometheus processes must not outlive the process that started them: on exit, any still
 * running is killed and its temporary directory removed.
 */
export function track(child: ChildProcess, workDir: string): void {
  live.set(child, workDir);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const [c, dir] of live) {
        c.kill('SIGKILL');
        try {
          rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
        } catch {
          // best effort: the directory is under the system's temporary directory
        }
      }
    });
  }
}

const WORKDIR_PREFIX = 'prometheus-';
const OWNER_FILE = 'owner.pid';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temporary directories left by launchers whose process died without stopping. */
async function removeStaleWorkDirs(): Promise<void> {
  const entries = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const entry of entries.filter((e) => e.startsWith(WORKDIR_PREFIX))) {
    const dir = join(tmpdir(), entry);
    const owner = Number(await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => ''));
    if (owner > 0 && !isRunning(owner)) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

const SETPRIV = '/usr/bin/setpriv';

/**
 * Runs the binary so that the kernel kills it if this process dies without cleaning up (even by
 * SIGKILL), through util-linux's `setpriv --pdeathsig` when it is installed.
 */
export function withParentDeathSignal(binary: string, args: string[]): [string, string[]] {
  if (process.platform === 'linux' && existsSync(SETPRIV)) return [SETPRIV, ['--pdeathsig', 'KILL', '--', binary, ...args]];
  return [binary, args];
}

/** A new temporary directory, marked with this process's id (stale ones are removed first). */
export async function createWorkDir(): Promise<string> {
  await removeStaleWorkDirs();
  const dir = await mkdtemp(join(tmpdir(), WORKDIR_PREFIX));
  await writeFile(join(dir, OWNER_FILE), String(process.pid));
  return dir;
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
export async function terminate(proc: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
