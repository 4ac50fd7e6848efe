/**
 * The pods/exec subresource over WebSocket: the command runs against the container's computed
 * filesystem and the cluster network (see shell.ts); stdout and stderr come back on channels 1
 * and 2, then the exit Status on channel 3 and a normal close. The API server checks the pod and
 * the container name (400/404 Status before upgrading); the kubelet refuses a container that does
 * not run — in plain text before upgrading when the WebSocket goes to it (v4 and older), as an
 * InternalError Status on channel 3 when the API server translates v5 (1.30+).
 */
import { createHash } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { ObjectStore } from './store.js';
import { badRequest, KubeletError } from './status.js';
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

/** The API server's checks of an exec request before it connects to the kubelet; throws an ApiError. */
export function validateExec(store: ObjectStore, namespace: string, pod: string, query: URLSearchParams): ExecRequest {
  const container = resolveContainer(store, namespace, pod, query.get('container'));
  const command = query.getAll('command');
  if (command.length === 0) throw badRequest('you must specify at least 1 command');
  const stdout = isTrue(query.get('stdout'));
  const stderr = isTrue(query.get('stderr'));
  if (!stdout && !stderr && !isTrue(query.get('stdin'))) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  return { namespace, pod, container, command, stdout, stderr };
}

/**
 * The kubelet's refusal of an exec, or undefined when the container runs: kubelet_pods.go
 * `GetExec` finds no running container (`container not found ("<name>")`, written with HTTP 500
 * by the CRI streaming `WriteError`) — a container waiting, crash-looping, or of a completed pod.
 */
export function kubeletExecRefusal(store: ObjectStore, exec: ExecRequest): KubeletError | undefined {
  const obj = store.get('Pod', exec.namespace, exec.pod)!;
  const status = obj.status as { phase?: string; containerStatuses?: { name: string; state?: { running?: unknown } }[] };
  const running = status.containerStatuses?.find((c) => c.name === exec.container)?.state?.running;
  if (status.phase === 'Running' && running) return undefined;
  return new KubeletError(500, `container not found ("${exec.container}")`);
}

/**
 * The Status the API server's StreamTranslator (v5.channel.k8s.io, 1.30+) writes on channel 3
 * when its SPDY connection to the kubelet is refused: client-go's SPDY round tripper words the
 * kubelet's answer `unable to upgrade connection: <text>`, and the translator wraps it as an
 * InternalError (apiserver pkg/util/proxy/streamtranslator.go `ServeHTTP`).
 */
export function translatedRefusal(refusal: KubeletError) {
  const cause = `unable to upgrade connection: ${refusal.message}`;
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${cause}`, reason: 'InternalError', details: { causes: [{ message: cause }] }, code: 500 };
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
 * stream early does). With `refusal` (v5, translated by the API server) the kubelet refused: the
 * session carries only the InternalError Status.
 */
export async function runExecSession(
  ws: WebSocket,
  protocol: string,
  store: ObjectStore,
  exec: ExecRequest,
  options: { withoutStatus?: boolean; refusal?: KubeletError } = {},
): Promise<void> {
  sendChannel(ws, exec.stdout ? STDOUT : exec.stderr ? STDERR : ERROR);
  if (options.refusal) {
    sendChannel(ws, ERROR, JSON.stringify(translatedRefusal(options.refusal)));
    ws.close(1000);
    return;
  }
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
