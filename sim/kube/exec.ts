/**
 * The pods/exec subresource over WebSocket: the command runs against the container's computed
 * filesystem and the cluster network (see shell.ts); stdout and stderr come back on channels 1
 * and 2, then the exit Status on channel 3 and a normal close.
 */
import { createHash } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { ObjectStore } from './store.js';
import { badRequest } from './status.js';
import { resolveContainer } from './logs.js';
import { podIP } from './pod-status.js';
import { runCommand, ExecutableNotFound, type CommandResult } from './shell.js';
import { CHANNEL_V4, CHANNEL_V5, sendChannel } from './channel.js';

const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;

/** What a validated exec request runs. */
export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdout: boolean;
  stderr: boolean;
}

const isTrue = (v: string | null) => v === 'true' || v === '1';

/** Checks an exec request as the API server and kubelet do before upgrading; throws an ApiError. */
export function validateExec(store: ObjectStore, namespace: string, pod: string, query: URLSearchParams): ExecRequest {
  const container = resolveContainer(store, namespace, pod, query.get('container'));
  const command = query.getAll('command');
  if (command.length === 0) throw badRequest('you must specify at least 1 command');
  const stdout = isTrue(query.get('stdout'));
  const stderr = isTrue(query.get('stderr'));
  if (!stdout && !stderr && !isTrue(query.get('stdin'))) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  const obj = store.get('Pod', namespace, pod)!;
  const status = obj.status as { phase?: string; containerStatuses?: { name: string; state?: { running?: unknown } }[] };
  if (status.phase === 'Succeeded' || status.phase === 'Failed') {
    throw badRequest(`cannot exec into a container in a completed pod; current phase is ${status.phase}`);
  }
  const running = status.containerStatuses?.find((c) => c.name === container)?.state?.running;
  if (status.phase !== 'Running' || !running) throw badRequest(`unable to upgrade connection: container not found ("${container}")`);
  return { namespace, pod, container, command, stdout, stderr };
}

function exitStatus(code: number) {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: command terminated with exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** The container runtime's failure to start a program the image does not have. */
function runtimeFailure(exec: ExecRequest, err: ExecutableNotFound) {
  const execId = createHash('sha256').update(`${exec.pod}/${Date.now()}`).digest('hex');
  const cause =
    `error executing command in container: failed to exec in container: failed to start exec "${execId}": ` +
    `OCI runtime exec failed: exec failed: unable to start container process: ${err.message}: unknown`;
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${cause}`,
    reason: 'InternalError',
    details: { causes: [{ message: cause }] },
    code: 500,
  };
}

async function execute(store: ObjectStore, exec: ExecRequest): Promise<{ output?: CommandResult; status: Record<string, unknown> }> {
  const pod = store.get('Pod', exec.namespace, exec.pod)!;
  const ctx = {
    files: store.containerFiles(exec.namespace, exec.pod, exec.container),
    view: store,
    namespace: exec.namespace,
    podIP: podIP(pod) ?? '127.0.0.1',
  };
  try {
    const output = await runCommand(exec.command, ctx);
    return { output, status: exitStatus(output.exitCode) };
  } catch (err) {
    if (err instanceof ExecutableNotFound) return { status: runtimeFailure(exec, err) };
    throw err;
  }
}

/**
 * Runs the command on an upgraded connection speaking `protocol`. With `withoutStatus` the session
 * sends the output, then closes normally without the status frame (as a node or proxy dropping the
 * stream early does).
 */
export async function runExecSession(ws: WebSocket, protocol: string, store: ObjectStore, exec: ExecRequest, options: { withoutStatus?: boolean } = {}): Promise<void> {
  sendChannel(ws, exec.stdout ? STDOUT : exec.stderr ? STDERR : ERROR);
  const { output, status } = await execute(store, exec);
  if (output && exec.stdout && output.stdout.length) sendChannel(ws, STDOUT, output.stdout);
  if (output && exec.stderr && output.stderr) sendChannel(ws, STDERR, output.stderr);
  if (options.withoutStatus) {
    ws.close(1000);
    return;
  }
  const structured = protocol === CHANNEL_V5 || protocol === CHANNEL_V4;
  if (structured) sendChannel(ws, ERROR, JSON.stringify(status));
  else if (status.status !== 'Success') sendChannel(ws, ERROR, String(status.message));
  ws.close(1000);
}
