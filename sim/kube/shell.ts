/**
 * The commands an exec session can run in a simulated container, with busybox's output and exit
 * codes: `cat`, `ls`, `test`/`[`, `echo`, `true`, `false`, `wget` (real HTTP through the
 * cluster network), `nslookup` (cluster DNS), and `sh -c` for command lists joined by `;`, `&&`
 * and `||`. The filesystem is the container's computed files; directories are inferred from them.
 */
import http from 'node:http';
import https from 'node:https';
import type { ClusterView } from './view.js';
import { CLUSTER_DNS_IP } from './network.js';

export interface ShellContext {
  /** Absolute path → content. */
  files: Map<string, string>;
  view: ClusterView;
  namespace: string;
  /** The pod's own address: what `localhost` means inside it. */
  podIP: string;
}

export interface CommandResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

/** Thrown for a command the container does not have (the runtime then fails the exec). */
export class ExecutableNotFound extends Error {
  constructor(readonly command: string) {
    super(`exec: "${command}": executable file not found in $PATH`);
  }
}

const result = (stdout: string | Buffer, stderr = '', exitCode = 0): CommandResult => ({
  stdout: typeof stdout === 'string' ? Buffer.from(stdout) : stdout,
  stderr,
  exitCode,
});

// ---- filesystem ------------------------------------------------------------------------------

function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

function isDir(files: Map<string, string>, path: string): boolean {
  const prefix = path === '/' ? '/' : `${path}/`;
  return [...files.keys()].some((f) => f.startsWith(prefix));
}

/** Names directly under a directory, sorted. */
function entries(files: Map<string, string>, dir: string): string[] {
  const prefix = dir === '/' ? '/' : `${dir}/`;
  const names = new Set<string>();
  for (const f of files.keys()) if (f.startsWith(prefix)) names.add(f.slice(prefix.length).split('/')[0]);
  return [...names].sort();
}

function cat(args: string[], ctx: ShellContext): CommandResult {
  const out: string[] = [];
  let err = '';
  for (const arg of args) {
    const path = normalize(arg);
    const content = ctx.files.get(path);
    if (content !== undefined) out.push(content);
    else if (isDir(ctx.files, path)) err += 'cat: read error: Is a directory\n';
    else err += `cat: ${arg}: No such file or directory\n`;
  }
  return result(out.join(''), err, err ? 1 : 0);
}

function longListing(name: string, dir: boolean, size: number): string {
  const mode = dir ? 'drwxr-xr-x' : '-rw-r--r--';
  const date = new Date().toDateString().slice(4, 10);
  return `${mode}    ${dir ? 2 : 1} root     root     ${String(dir ? 4096 : size).padStart(9)} ${date} 00:00 ${name}`;
}

function ls(args: string[], ctx: ShellContext): CommandResult {
  const flags = new Set(args.filter((a) => a.startsWith('-')).flatMap((a) => [...a.slice(1)]));
  const paths = args.filter((a) => !a.startsWith('-'));
  const targets = paths.length ? paths : ['.'];
  const line = (name: string, full: string) =>
    flags.has('l') ? longListing(name, isDir(ctx.files, full), Buffer.byteLength(ctx.files.get(full) ?? '')) : name;
  let out = '';
  let err = '';
  for (const arg of targets) {
    const path = normalize(arg);
    if (ctx.files.has(path)) {
      out += line(arg, path) + '\n';
    } else if (isDir(ctx.files, path)) {
      if (targets.length > 1) out += `${arg}:\n`;
      const names = [...(flags.has('a') ? ['.', '..'] : []), ...entries(ctx.files, path)];
      for (const n of names) out += line(n, normalize(`${path}/${n}`)) + '\n';
    } else {
      err += `ls: ${arg}: No such file or directory\n`;
    }
  }
  return result(out, err, err ? 1 : 0);
}

function test(args: string[], ctx: ShellContext): CommandResult {
  const [op, arg] = args;
  if (args.length === 1) return result('', '', op ? 0 : 1);
  const path = normalize(arg ?? '');
  const checks: Record<string, () => boolean> = {
    '-f': () => ctx.files.has(path),
    '-d': () => isDir(ctx.files, path),
    '-e': () => ctx.files.has(path) || isDir(ctx.files, path),
    '-r': () => ctx.files.has(path) || isDir(ctx.files, path),
    '-s': () => (ctx.files.get(path) ?? '').length > 0 || isDir(ctx.files, path),
    '-n': () => (arg ?? '').length > 0,
    '-z': () => (arg ?? '').length === 0,
  };
  const check = checks[op];
  if (!check) return result('', `sh: ${op}: unknown operand\n`, 2);
  return result('', '', check() ? 0 : 1);
}

// ---- network ---------------------------------------------------------------------------------

interface WgetOptions {
  quiet: boolean;
  output: string | undefined;
  timeoutSeconds: number;
  headers: Record<string, string>;
  postData?: string;
  url?: string;
}

function parseWgetArgs(args: string[]): WgetOptions | string {
  const o: WgetOptions = { quiet: false, output: undefined, timeoutSeconds: 30, headers: {} };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [long, inline] = a.startsWith('--') ? [a.split('=')[0], a.includes('=') ? a.slice(a.indexOf('=') + 1) : undefined] : [a, undefined];
    const value = () => inline ?? args[++i] ?? '';
    if (long === '--quiet') o.quiet = true;
    else if (long === '--output-document') o.output = value();
    else if (long === '--timeout') o.timeoutSeconds = Number(value());
    else if (long === '--header') {
      const h = value();
      o.headers[h.slice(0, h.indexOf(':')).trim()] = h.slice(h.indexOf(':') + 1).trim();
    } else if (long === '--post-data') o.postData = value();
    else if (a.startsWith('--')) return `wget: unrecognized option '${a}'`;
    else if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const flag = a[j];
        if (flag === 'q') o.quiet = true;
        else if (flag === 'O' || flag === 'T') {
          const v = a.slice(j + 1) || args[++i] || '';
          if (flag === 'O') o.output = v;
          else o.timeoutSeconds = Number(v);
          break;
        } else return `wget: invalid option -- '${flag}'`;
      }
    } else o.url = a;
  }
  return o;
}

interface HttpAnswer {
  status: number;
  message: string;
  location?: string;
  body: Buffer;
}

function httpGet(url: URL, address: string, port: number, o: WgetOptions): Promise<HttpAnswer> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request({
      host: address,
      port,
      method: o.postData !== undefined ? 'POST' : 'GET',
      path: `${url.pathname}${url.search}`,
      headers: { Host: url.host, 'User-Agent': 'Wget', Connection: 'close', ...o.headers },
      rejectUnauthorized: false,
      timeout: o.timeoutSeconds * 1000,
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, message: res.statusMessage ?? '', location: res.headers.location, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    if (o.postData !== undefined) req.setHeader('Content-Type', 'application/x-www-form-urlencoded');
    req.end(o.postData);
  });
}

/** One HTTP exchange from inside the pod, or the busybox error message. */
async function fetchFromPod(url: URL, o: WgetOptions, ctx: ShellContext, log: string[]): Promise<HttpAnswer | string> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const local = host === 'localhost' || host === '127.0.0.1' ? ctx.podIP : host;
  const resolved = ctx.view.lookupHost(local, ctx.namespace);
  if (!resolved) return `wget: bad address '${host}'`;
  log.push(`Connecting to ${url.host} (${resolved.address}:${port})`);
  const route = ctx.view.dial(local, port, ctx.namespace);
  if ('error' in route) {
    if (route.error.includes('no such host')) return `wget: bad address '${host}'`;
    if (route.error.includes('timeout')) return 'wget: download timed out';
    return `wget: can't connect to remote host (${resolved.address}): Connection refused`;
  }
  try {
    return await httpGet(url, route.address, route.port, o);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return `wget: can't connect to remote host (${resolved.address}): Connection refused`;
    if (code === 'ETIMEDOUT') return 'wget: download timed out';
    return `wget: error getting response: Connection reset by peer`;
  }
}

async function wget(args: string[], ctx: ShellContext): Promise<CommandResult> {
  const o = parseWgetArgs(args);
  if (typeof o === 'string') return result('', `${o}\n`, 1);
  if (!o.url) return result('', 'BusyBox v1.36.1 multi-call binary.\n\nUsage: wget [-cqS] [-O FILE] URL...\n', 1);
  const log: string[] = [];
  const done = (stdout: Buffer, error?: string) => {
    const lines = o.quiet ? [] : log;
    return result(stdout, [...lines, ...(error ? [error] : [])].map((l) => l + '\n').join(''), error ? 1 : 0);
  };
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(o.url) ? o.url : `http://${o.url}`);
  } catch {
    return done(Buffer.alloc(0), `wget: bad address '${o.url}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return done(Buffer.alloc(0), `wget: not an http or ftp url: ${o.url}`);
  for (let redirects = 0; redirects < 20; redirects++) {
    const answer = await fetchFromPod(url, o, ctx, log);
    if (typeof answer === 'string') return done(Buffer.alloc(0), answer);
    if ([301, 302, 303, 307, 308].includes(answer.status) && answer.location) {
      url = new URL(answer.location, url);
      continue;
    }
    if (answer.status < 200 || answer.status >= 300) {
      return done(Buffer.alloc(0), `wget: server returned error: HTTP/1.1 ${answer.status} ${answer.message}`);
    }
    const toStdout = o.output === '-';
    log.push(toStdout ? 'writing to stdout' : `saving to '${o.output ?? (url.pathname.split('/').pop() || 'index.html')}'`);
    log.push(toStdout ? 'written to stdout' : 'saved');
    return done(toStdout ? answer.body : Buffer.alloc(0));
  }
  return done(Buffer.alloc(0), 'wget: too many redirections');
}

function nslookup(args: string[], ctx: ShellContext): CommandResult {
  const host = args.find((a) => !a.startsWith('-'));
  if (!host) return result('', 'BusyBox v1.36.1 multi-call binary.\n\nUsage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n', 1);
  const header = `Server:\t\t${CLUSTER_DNS_IP}\nAddress:\t${CLUSTER_DNS_IP}:53\n\n`;
  const found = ctx.view.lookupHost(host, ctx.namespace);
  if (!found) return result(header, `** server can't find ${host}: NXDOMAIN\n\n`, 1);
  return result(`${header}Name:\t${found.name}\nAddress: ${found.address}\n\n`);
}

// ---- dispatch --------------------------------------------------------------------------------

type Command = (args: string[], ctx: ShellContext) => CommandResult | Promise<CommandResult>;

const COMMANDS: Record<string, Command> = {
  cat,
  ls,
  test,
  '[': (args, ctx) => (args[args.length - 1] === ']' ? test(args.slice(0, -1), ctx) : result('', "sh: missing ]\n", 2)),
  echo: (args) => result(args.join(' ') + '\n'),
  true: () => result(''),
  false: () => result('', '', 1),
  wget,
  nslookup,
  sh: shell,
};

/** Splits a shell command line into words and the operators `;`, `&&`, `||` (quotes honoured). */
function tokenize(script: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(?:(&&|\|\||;)|((?:[^\s'";&|]|'[^']*'|"(?:\\.|[^"\\])*")+))/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(script)) && m[0] !== '') {
    if (m[1]) tokens.push(m[1]);
    else tokens.push(m[2].replace(/'([^']*)'|"((?:\\.|[^"\\])*)"/g, (_, s: string | undefined, d: string | undefined) => s ?? d!.replace(/\\(.)/g, '$1')));
  }
  return tokens;
}

/** `sh -c "a; b && c || d"`: runs the list with the shell's short-circuit rules. */
async function shell(args: string[], ctx: ShellContext): Promise<CommandResult> {
  if (args[0] !== '-c' || args[1] === undefined) return result('', 'sh: only "sh -c COMMAND" is supported\n', 2);
  const stdout: Buffer[] = [];
  let stderr = '';
  let status = 0;
  let words: string[] = [];
  let skip = false;
  const runPending = async () => {
    if (words.length && !skip) {
      const r = await runInShell(words, ctx);
      stdout.push(r.stdout);
      stderr += r.stderr;
      status = r.exitCode;
    }
    words = [];
  };
  for (const token of [...tokenize(args[1]), ';']) {
    if (token === ';' || token === '&&' || token === '||') {
      await runPending();
      skip = token === '&&' ? status !== 0 : token === '||' ? status === 0 : false;
    } else {
      words.push(token);
    }
  }
  return result(Buffer.concat(stdout), stderr, status);
}

async function runInShell(argv: string[], ctx: ShellContext): Promise<CommandResult> {
  try {
    return await runCommand(argv, ctx);
  } catch (err) {
    if (err instanceof ExecutableNotFound) return result('', `sh: ${err.command}: not found\n`, 127);
    throw err;
  }
}

/** Runs one command; throws ExecutableNotFound when the container has no such program. */
export async function runCommand(argv: string[], ctx: ShellContext): Promise<CommandResult> {
  const [name, ...args] = argv;
  const command = COMMANDS[name?.replace(/^\/(usr\/)?s?bin\//, '') ?? ''];
  if (!command) throw new ExecutableNotFound(name ?? '');
  return command(args, ctx);
}
