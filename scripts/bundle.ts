/**
 * Builds dist/, the bundle the action runs (action.yml: dist/index.js) and the CLI loads
 * (bin/metrics-flow-check.js: dist/cli/index.js): one esbuild build of both entry points as ES
 * modules with code splitting, so what both share is in dist/chunks/ once, and what only some
 * runs need (the diagnosis of failed checks, the manifests reader, exec and port-forward streams,
 * the WebSocket client, the engine itself when an input is bad) is a chunk loaded by `import()`
 * only then. It also writes dist/licenses.txt: the name, version, license and license text of
 * every package the bundle holds.
 *
 *   npm run bundle        (after npm run build:lib, which compiles this file)
 *
 * The build is reproducible byte for byte (CI compares dist/ with a fresh build): dist/ is
 * emptied first, so no chunk of an earlier build stays, and nothing in the output depends on
 * the machine (paths are relative to the repository, no timestamps).
 */
import { mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

/** The repository (this file runs as lib/scripts/bundle.js). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST = join(ROOT, 'dist');

/**
 * What the bundle takes of @kubernetes/client-node. Its index re-exports everything, among which
 * the generated API (dist/gen/: every model and API class, 1.2 MB, which the program does not
 * use: it reads the API as JSON itself), and none of its modules is declared free of side effects
 * (no `sideEffects` in its package.json), so esbuild would keep all of them. So:
 *
 * - `@kubernetes/client-node` itself is its configuration, dist/config.js (KubeConfig and every
 *   authenticator it holds: token, token file, client certificates, exec plugins, OIDC, Azure and
 *   GCP auth providers, proxies), and the request context of the generated client,
 *   dist/gen/http/http.js (KubeConfig.applySecurityAuthentication takes one). Importing any
 *   other value from the package root fails the build ("No matching export"): add its module here.
 * - dist/config.js imports `createConfiguration` and `ServerConfiguration` from dist/gen/index.js,
 *   which re-exports the whole generated API; they are taken from their own modules instead.
 */
const CLIENT_NODE_ROOT = ["export * from './config.js';", "export * from './gen/http/http.js';"].join('\n');
const CLIENT_NODE_GEN_FOR_CONFIG = ["export { createConfiguration } from './configuration.js';", "export { ServerConfiguration } from './servers.js';"].join('\n');

const slimClientNode: Plugin = {
  name: 'slim-client-node',
  setup(b) {
    let dist: string | undefined;
    const clientNodeDist = async (): Promise<string> => {
      if (dist) return dist;
      const index = await b.resolve('@kubernetes/client-node', { kind: 'import-statement', resolveDir: ROOT, pluginData: 'real' });
      if (index.errors.length) throw new Error(`cannot resolve @kubernetes/client-node: ${index.errors[0]?.text}`);
      return (dist = dirname(index.path));
    };
    b.onResolve({ filter: /^@kubernetes\/client-node$/ }, (args) => (args.pluginData === 'real' ? undefined : { path: '@kubernetes/client-node', namespace: 'slim-client-node' }));
    b.onResolve({ filter: /^\.\/gen\/index\.js$/ }, async (args) =>
      args.importer === join(await clientNodeDist(), 'config.js') ? { path: '@kubernetes/client-node/dist/gen (for config.js)', namespace: 'slim-client-node' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'slim-client-node' }, async (args) => {
      const root = args.path === '@kubernetes/client-node';
      return { contents: root ? CLIENT_NODE_ROOT : CLIENT_NODE_GEN_FOR_CONFIG, resolveDir: root ? await clientNodeDist() : join(await clientNodeDist(), 'gen'), loader: 'js' };
    });
  },
};

/**
 * The packages client-node's configuration imports for one kind of kubeconfig each, by the names
 * it uses of them: js-yaml (KubeConfig.loadFromString), socks-proxy-agent, socks and hpagent (a
 * cluster's proxy-url), jsonpath-plus (the azure and gcp auth providers), openid-client (the oidc
 * auth provider). Imported as they are, each runs as soon as the engine loads, on every run
 * (about 170 KB of JavaScript, a tenth of a healthy run's time). Each is imported through a
 * CommonJS stand-in whose properties are getters that require the package on first use, so a
 * package's code runs only in the runs whose kubeconfig needs it, and then exactly as imported
 * (`new SocksProxyAgent(…)` constructs the package's own class). The package itself is a sidecar
 * (see SIDECARS): a file of its own that a run without such a kubeconfig does not even parse. A
 * name client-node starts to use that is not listed here fails the build.
 */
const LAZY_CLIENT_NODE_DEPS: Readonly<Record<string, { readonly values: readonly string[]; readonly classes: readonly string[] }>> = {
  'js-yaml': { values: ['load'], classes: [] },
  'socks-proxy-agent': { values: [], classes: ['SocksProxyAgent'] },
  socks: { values: ['SocksClient'], classes: [] },
  hpagent: { values: [], classes: ['HttpProxyAgent', 'HttpsProxyAgent'] },
  'jsonpath-plus': { values: ['JSONPath'], classes: [] },
  'openid-client': { values: ['discovery', 'refreshTokenGrant', 'customFetch'], classes: [] },
};

/**
 * Sidecars: CommonJS bundles of their own beside the chunks (dist/chunks/<name>.cjs), each required
 * (`require('./<name>.cjs')`, relative to the chunk that requires it, through the `require` of the
 * banner) the first time a run needs it. Code in a chunk is parsed whenever the chunk loads, even
 * the parts a run never calls; a sidecar is read only by the runs that use it. `sidecar()` names
 * one and returns the path to require; `sidecarsExternal` keeps those requires as they are.
 */
const SIDECARS = new Map<string, string>();

function sidecar(name: string, entry: string): string {
  const known = SIDECARS.get(name);
  if (known !== undefined && known !== entry) throw new Error(`sidecar ${name} is both ${known} and ${entry}`);
  SIDECARS.set(name, entry);
  return `./${name}.cjs`;
}

const sidecarsExternal: Plugin = {
  name: 'sidecars-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/[\w.-]+\.cjs$/ }, (args) => (SIDECARS.has(args.path.slice(2, -'.cjs'.length)) ? { path: args.path, external: true } : undefined));
  },
};

/** Builds each sidecar: its package (and what it requires) bundled as one CommonJS file. */
async function buildSidecars(): Promise<Metafile> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [...SIDECARS].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, entry]) => ({ in: entry, out: `chunks/${name}` })),
    outdir: DIST,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node24',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  return result.metafile;
}

const lazyClientNodeDeps: Plugin = {
  name: 'lazy-client-node-deps',
  setup(b) {
    const names = Object.keys(LAZY_CLIENT_NODE_DEPS);
    const filter = new RegExp(`^(${names.map((n) => n.replace(/[.-]/g, '\\$&')).join('|')})$`);
    // The importer's real path (node_modules may be a link): any client-node's dist/.
    const clientNode = /[\\/]node_modules[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]/;
    b.onResolve({ filter }, (args) => {
      if (args.pluginData === 'real' || !clientNode.test(args.importer)) return undefined;
      return { path: args.path, namespace: 'lazy-client-node-dep', pluginData: args.resolveDir };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-client-node-dep' }, async (args) => {
      const real = await b.resolve(args.path, { kind: 'require-call', resolveDir: args.pluginData as string, pluginData: 'real' });
      if (real.errors.length) return { errors: real.errors };
      const { values, classes } = LAZY_CLIENT_NODE_DEPS[args.path] as (typeof LAZY_CLIENT_NODE_DEPS)[string];
      const lines = [`let real;`, `const load = () => (real ??= require(${JSON.stringify(sidecar(`lazy-${args.path}`, real.path))}));`, `module.exports = {`];
      for (const name of values) lines.push(`  get ${name}() { return load().${name}; },`);
      // `new Stand(…)` returns the object the real constructor builds.
      for (const name of classes) lines.push(`  ${name}: function ${name}(...args) { return new (load().${name})(...args); },`);
      lines.push('};');
      return { contents: lines.join('\n'), resolveDir: ROOT, loader: 'js' };
    });
  },
};

/**
 * @actions/core imports @actions/http-client (and with it its own copy of undici, 6) only for
 * `getIDToken`, the job's OIDC token (upstream actions/toolkit packages/core/src/oidc-utils.ts),
 * and @actions/exec (with @actions/io: child_process, assert, fs…) only for `platform.getDetails`
 * (packages/core/src/platform.ts); the action calls neither. Marked free of side effects, they
 * are left out of the bundle as long as nothing calls those; were one called, esbuild would
 * bundle its package as usual.
 */
const actionsUnlessUsed: Plugin = {
  name: 'actions-unless-used',
  setup(b) {
    b.onResolve({ filter: /^@actions\/(http-client|exec|io)(\/.*)?$/ }, async (args) => {
      if (args.pluginData === 'real') return undefined;
      const { path, ...options } = args;
      const resolved = await b.resolve(path, { ...options, pluginData: 'real' });
      return resolved.errors.length ? resolved : { ...resolved, sideEffects: false };
    });
  },
};

/**
 * What the bundle takes of undici. Its index (undici/index.js) requires, and runs as it loads,
 * all of undici: fetch, WebSocket, EventSource, the cache stores, cookies, the mock agents…
 * (700 KB bundled). The program uses `request` and `Agent` (src/http.ts, src/endpoint.ts,
 * src/cluster.ts), client-node's config.js `Agent` and `ProxyAgent` (its dispatchers), and its
 * generated HTTP library `fetch` (gen/http/isomorphic-fetch.js, which only the generated API
 * classes call: the program does not). `undici` resolves to this module: the same objects,
 * required from undici's own files, with `request` made as undici/index.js makes it, and `fetch`
 * loaded (a chunk of its own) on its first call. Importing any other value from undici fails the
 * build ("No matching export"): add it here.
 */
const UNDICI_SLIM = (dir: string): string => {
  const file = (path: string) => JSON.stringify(join(dir, path));
  return `
import Dispatcher from ${file('lib/dispatcher/dispatcher.js')};
import Agent from ${file('lib/dispatcher/agent.js')};
import ProxyAgent from ${file('lib/dispatcher/proxy-agent.js')};
import api from ${file('lib/api/index.js')};
import errors from ${file('lib/core/errors.js')};
import util from ${file('lib/core/util.js')};
import globals from ${file('lib/global.js')};
// undici/index.js: \`Object.assign(Dispatcher.prototype, api)\` (dispatcher.request() and the like).
Object.assign(Dispatcher.prototype, api);
const { getGlobalDispatcher, setGlobalDispatcher } = globals;
// undici/index.js makeDispatcher(): request(url, options) on options.dispatcher, else the global one.
function makeDispatcher(fn) {
  return (url, opts, handler) => {
    if (typeof opts === 'function') {
      handler = opts;
      opts = null;
    }
    if (!url || (typeof url !== 'string' && typeof url !== 'object' && !(url instanceof URL))) {
      throw new errors.InvalidArgumentError('invalid url');
    }
    if (opts != null && typeof opts !== 'object') {
      throw new errors.InvalidArgumentError('invalid opts');
    }
    if (opts && opts.path != null) {
      if (typeof opts.path !== 'string') {
        throw new errors.InvalidArgumentError('invalid opts.path');
      }
      let path = opts.path;
      if (!opts.path.startsWith('/')) {
        path = '/' + path;
      }
      url = new URL(util.parseOrigin(url).origin + path);
    } else {
      if (!opts) {
        opts = typeof url === 'object' ? url : {};
      }
      url = util.parseURL(url);
    }
    const { agent, dispatcher = getGlobalDispatcher(), ...restOpts } = opts;
    if (agent) {
      throw new errors.InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?');
    }
    return fn.call(dispatcher, {
      ...restOpts,
      origin: url.origin,
      path: url.search ? url.pathname + url.search : url.pathname,
      method: opts.method || (opts.body ? 'PUT' : 'GET'),
    }, handler);
  };
}
export const request = makeDispatcher(api.request);
export async function fetch(input, init) {
  const impl = await import(${file('lib/web/fetch/index.js')});
  return impl.fetch(input, init);
}
export { Agent, Dispatcher, ProxyAgent, errors, getGlobalDispatcher, setGlobalDispatcher };
`;
};

/** The project's undici, as esbuild names its files: by their real path (node_modules may be a link). */
const UNDICI_DIR = realpathSync(join(ROOT, 'node_modules', 'undici'));

const slimUndici: Plugin = {
  name: 'slim-undici',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, async (args) => {
      if (args.pluginData === 'real') return undefined;
      const index = await b.resolve('undici', { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'real' });
      if (index.errors.length) return index;
      // Only the project's undici (which client-node shares). Another copy (@actions/http-client's
      // undici 6) is left as it is: nothing the bundle keeps requires it.
      if (dirname(index.path) !== UNDICI_DIR) return index;
      return { path: 'undici', namespace: 'slim-undici', pluginData: dirname(index.path) };
    });
    b.onLoad({ filter: /.*/, namespace: 'slim-undici' }, (args) => ({ contents: UNDICI_SLIM(args.pluginData as string), resolveDir: args.pluginData as string, loader: 'js' }));
    // undici's HTTP/1.1 client (client-h1.js lazyllhttp) requires llhttp, the parser it compiles
    // to WebAssembly (two builds, 72 KB of base64 each: SIMD, and the one it falls back to), on its
    // first HTTP/1.1 connection; a run that speaks HTTP/2 to the API server may make none.
    const h1 = join(UNDICI_DIR, 'lib', 'dispatcher', 'client-h1.js');
    b.onResolve({ filter: /^\.\.\/llhttp\/llhttp(_simd)?-wasm\.js$/ }, (args) => {
      if (args.importer !== h1) return undefined;
      const file = args.path.slice('../llhttp/'.length, -'.js'.length);
      return { path: sidecar(`undici-${file.replace('_', '-')}`, join(UNDICI_DIR, 'lib', 'llhttp', `${file}.js`)), external: true };
    });
    // undici's client (lib/dispatcher/client.js) requires its HTTP/2 client as it loads, and that
    // one node:http2 (4 MiB of memory), for connections that negotiate h2: undici offers h2 in ALPN
    // unless `allowH2: false`, and kube-apiserver accepts it, but Grafana and Prometheus reached
    // over plain HTTP (a port-forward, a URL) never do. It is required on the first h2 connection.
    // (Not a sidecar: it shares undici's internal symbols with the rest of undici.)
    const client = join(UNDICI_DIR, 'lib', 'dispatcher', 'client.js');
    b.onLoad({ filter: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/ }, (args) => {
      if (args.path !== client) return undefined;
      const source = readFileSync(client, 'utf8');
      const eager = "const connectH2 = require('./client-h2.js')";
      if (source.split(eager).length !== 2) throw new Error(`${relative(ROOT, client)} no longer has \`${eager}\`: review the lazy HTTP/2 client in scripts/bundle.ts`);
      return { contents: source.replace(eager, "let clientH2\nconst connectH2 = (...args) => (clientH2 ??= require('./client-h2.js'))(...args)"), loader: 'js' };
    });
  },
};

/**
 * Node's modules are loaded with require(), even where the source imports them (`import http from
 * 'node:http'`). An ES module import of a Node module reads every export to make its namespace,
 * which runs its lazy getters: `import 'node:http'` loads Node's own copy of undici and node:http2
 * (for the http.WebSocket getter), 17 MiB of memory where require('node:http') takes 3 MiB;
 * `import 'node:tls'` parses every root certificate (tls.rootCertificates). Each import of a Node
 * module in the bundle's sources becomes a CommonJS module `module.exports = require('node:…')`,
 * whose exports are read when the program uses them.
 */
const builtinsByRequire: Plugin = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z][a-z0-9_/]*$/ }, (args) => {
      if (args.kind !== 'import-statement' || !isBuiltin(args.path) || args.path === 'node:module') return undefined;
      return { path: args.path.replace(/^node:/, ''), namespace: 'node-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)});`, loader: 'js' }));
  },
};

/** Empties dist/: a chunk the new build no longer makes must not stay behind. */
function cleanDist(): void {
  rmSync(DIST, { recursive: true, force: true });
  mkdirSync(DIST, { recursive: true });
}

async function bundle(): Promise<Metafile> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [
      { in: 'src/index.ts', out: 'index' },
      { in: 'src/cli-main.ts', out: 'cli/index' },
    ],
    outdir: DIST,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    minify: true,
    legalComments: 'none',
    metafile: true,
    // The CommonJS packages in the bundle (undici, yaml, ws…) call require() for Node's modules;
    // an ES module has no require of its own.
    banner: { js: "import{createRequire as __mfcRequire}from'node:module';const require=__mfcRequire(import.meta.url);" },
    // undici's HTTP/1 client requires its experimental Milo parser (two WebAssembly builds, 150 KB)
    // unless it is bundled (client-h1.js: `typeof esbuildDetection === 'undefined'`, which
    // Node.js's own bundle of undici defines); the client uses llhttp unless asked for Milo.
    define: { esbuildDetection: 'true' },
    plugins: [builtinsByRequire, sidecarsExternal, slimClientNode, lazyClientNodeDeps, slimUndici, actionsUnlessUsed],
    logLevel: 'warning',
  });
  // dist/ is loaded as ES modules even when copied out of the repository (no package.json above it).
  writeFileSync(join(DIST, 'package.json'), '{\n  "type": "module"\n}\n');
  return result.metafile;
}

interface BundledPackage {
  readonly name: string;
  readonly version: string;
  readonly license: string;
  readonly text: string;
}

/** The packages whose files are in the bundle, from the metafile's inputs. */
function bundledPackages(metafile: Metafile): BundledPackage[] {
  const dirs = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const input of Object.keys(output.inputs)) {
      const parts = input.split('/');
      const at = parts.lastIndexOf('node_modules');
      if (at < 0) continue;
      const depth = parts[at + 1]?.startsWith('@') ? at + 3 : at + 2;
      dirs.add(parts.slice(0, depth).join('/'));
    }
  }
  const packages = [...dirs].map((dir): BundledPackage => {
    const abs = join(ROOT, dir);
    const pkg = JSON.parse(readFileSync(join(abs, 'package.json'), 'utf8')) as { name: string; version: string; license?: string | { type: string } };
    const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'UNKNOWN');
    const file = readdirSync(abs)
      .sort()
      .find((name) => /^(licen[cs]e|copying)(\.(md|txt|markdown))?$/i.test(name));
    const text = file ? readFileSync(join(abs, file), 'utf8').trim() : `(${pkg.name} ships no license file; its package.json says ${license})`;
    return { name: pkg.name, version: pkg.version, license, text };
  });
  return packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : 1));
}

function writeLicenses(metafile: Metafile): void {
  const text = bundledPackages(metafile)
    .map((p) => `${p.name} ${p.version}\n${p.license}\n${p.text}\n`)
    .join('\n');
  writeFileSync(join(DIST, 'licenses.txt'), text);
}

cleanDist();
const main = await bundle();
const sidecars = await buildSidecars();
const metafile: Metafile = { inputs: { ...main.inputs, ...sidecars.inputs }, outputs: { ...main.outputs, ...sidecars.outputs } };
writeLicenses(metafile);
// --metafile=FILE keeps esbuild's account of what is in the bundle (e.g. for esbuild's analyzer).
const keep = process.argv.find((a) => a.startsWith('--metafile='));
if (keep) writeFileSync(resolve(keep.slice('--metafile='.length)), JSON.stringify(metafile));
for (const [file, output] of Object.entries(metafile.outputs).sort(([a], [b]) => (a < b ? -1 : 1))) {
  process.stdout.write(`${relative(ROOT, join(ROOT, file)).padEnd(36)} ${(output.bytes / 1024).toFixed(0).padStart(6)} KiB\n`);
}
