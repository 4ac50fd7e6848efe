/**
 * The `manifests` input: the user's Kubernetes YAML files in the repository. A diagnosis names the
 * object and the place inside it to fix (an `ObjectPath`); this module finds that place's file and
 * line, so the error annotation lands on the line to change in the pull request's "Files changed".
 *
 * Reading never fails: a pattern matching nothing, a file that is too large or not valid YAML, an
 * object defined twice all become notes, and the rest of the manifests are still indexed.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import {
  LineCounter,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Document,
  type Scalar,
  type YAMLSeq,
} from 'yaml';
import type { ObjectPath, ObjectRef, SourceLocation } from './diagnose/types.js';
import { trimTrailingSlashes } from './http.js';

export interface ManifestIndex {
  /** Files read (paths relative to the base directory, with forward slashes), objects indexed. */
  readonly files: readonly string[];
  readonly objectCount: number;
  /** Problems met while reading (a pattern matching nothing, a file that is not valid YAML): shown to the user as notes. */
  readonly notes: readonly string[];
  /** The file and line of `target`, or undefined when the object is not in the manifests. */
  locate(target: ObjectPath): SourceLocation | undefined;
  /**
   * Where the dashboard with this uid is defined: a ConfigMap's data key (or a GrafanaDashboard's
   * `spec.json`) holding its JSON; the line of `path` inside it (a panel: `['panels', 3]`), else
   * of its `uid`.
   */
  locateDashboard(uid: string, path?: readonly (string | number)[]): SourceLocation | undefined;
}

/** At most this many files are read; the rest are skipped with a note. */
export const MAX_FILES = 2000;
/** Larger files are skipped with a note. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;
/** A pattern stops expanding after this many paths (files and directories), so `**` cannot run away. */
const MAX_GLOB_ENTRIES = 50_000;
/** Notes of one kind (invalid files, duplicates) shown before they are summed up. */
const MAX_NOTES_PER_KIND = 20;
/** Directories never searched. */
const SKIPPED_DIRS = new Set(['node_modules', '.git']);
const YAML_FILE = /\.ya?ml$/i;
const GLOB_MAGIC = /[*?[\]{}]/;

type Segment = string | number;

/** One parsed file, shared by the objects it defines. */
interface ParsedFile {
  /** As reported: relative to the base directory with forward slashes, or absolute when outside it. */
  readonly display: string;
  readonly source: string;
  readonly lines: LineCounter;
}

/** One object found in the manifests. */
interface Entry {
  readonly kind: string;
  readonly name: string;
  /** Undefined when the manifest has no `metadata.namespace` (applied with `-n`): matches any. */
  readonly namespace: string | undefined;
  readonly file: ParsedFile;
  readonly doc: Document;
  /** The object's mapping: a document's root, or an item of a `List`. */
  readonly node: unknown;
}

/**
 * Reads the manifests `patterns` match and indexes the Kubernetes objects they define. Patterns
 * are globs relative to `baseDir` (or absolute), separated by commas or newlines; a directory
 * stands for the YAML files under it, `!pattern` excludes, a line starting with `#` is ignored.
 * Only `.yaml` and `.yml` files are read; `node_modules` and `.git` are not searched.
 */
export async function loadManifests(patterns: string, baseDir: string): Promise<ManifestIndex> {
  const base = path.resolve(baseDir);
  const notes = new Notes();
  const candidates = await expandPatterns(splitPatterns(patterns), base, notes);

  let paths = candidates;
  if (paths.length > MAX_FILES) {
    notes.add('limit', `manifests: the patterns match ${paths.length} YAML files; only the first ${MAX_FILES} are read.`);
    paths = paths.slice(0, MAX_FILES);
  }

  const index = new Index(notes);
  const files: string[] = [];
  for (const abs of paths) {
    const display = displayPath(abs, base);
    const source = await readManifest(abs, display, notes);
    if (source === undefined) continue;
    files.push(display);
    index.addFile(display, source);
  }

  return {
    files,
    objectCount: index.objectCount,
    notes: notes.list(),
    locate: (target) => index.locate(target),
    locateDashboard: (uid, at) => index.locateDashboard(uid, at),
  };
}

// ---------------------------------------------------------------------------------------------
// Patterns and files

/** Splits the input on commas and newlines, except commas inside `{a,b}` alternatives. */
export function splitPatterns(input: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of input) {
    if (ch === '{') depth++;
    else if (ch === '}') depth = Math.max(0, depth - 1);
    if ((ch === ',' && depth === 0) || ch === '\n' || ch === '\r') {
      out.push(current);
      current = '';
      depth = 0;
      continue;
    }
    current += ch;
  }
  out.push(current);
  return out.map((p) => p.trim()).filter((p) => p !== '' && !p.startsWith('#'));
}

/** The YAML files the patterns match, absolute, in pattern order (sorted within a pattern), without repeats. */
async function expandPatterns(patterns: string[], base: string, notes: Notes): Promise<string[]> {
  const included: string[] = [];
  const seen = new Set<string>();
  const excluded = new Set<string>();
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = normalizePattern(negated ? raw.slice(1).trim() : raw);
    if (pattern === '') continue;
    const matches = await expandPattern(pattern, base, notes);
    if (matches === undefined) continue;
    const yamlFiles = matches.filter((f) => YAML_FILE.test(f));
    if (negated) {
      for (const f of yamlFiles) excluded.add(f);
      continue;
    }
    if (yamlFiles.length === 0) {
      notes.add('pattern', `manifests: "${raw}" matches no .yaml or .yml file.`);
      continue;
    }
    for (const f of yamlFiles) {
      if (seen.has(f)) continue;
      seen.add(f);
      included.push(f);
    }
  }
  return included.filter((f) => !excluded.has(f));
}

function normalizePattern(pattern: string): string {
  return process.platform === 'win32' ? pattern.replace(/\\/g, '/') : pattern;
}

/** Absolute paths of the regular files `pattern` matches (a directory stands for everything under it), sorted. */
async function expandPattern(pattern: string, base: string, notes: Notes): Promise<string[] | undefined> {
  let glob = pattern;
  if (!GLOB_MAGIC.test(pattern)) {
    const abs = path.resolve(base, pattern);
    const stat = await fsp.stat(abs).catch(() => undefined);
    if (stat === undefined) return [];
    if (stat.isFile()) return [abs];
    if (!stat.isDirectory()) return [];
    glob = `${trimTrailingSlashes(pattern)}/**/*`;
  }
  if (typeof fsp.glob !== 'function') {
    notes.add('pattern', `manifests: "${pattern}" cannot be expanded: globs need Node.js 22 or later.`);
    return undefined;
  }

  // node_modules and .git are skipped below the pattern's literal start (`vendor/**` skips
  // vendor/x/node_modules; `node_modules/chart/*.yaml` is read as asked).
  const staticRoot = path.resolve(base, staticPrefix(glob));
  const skipsInRoot = staticRoot.split(path.sep).some((part) => SKIPPED_DIRS.has(part));
  const skipped = (abs: string): boolean =>
    path.relative(staticRoot, abs).split(path.sep).some((part) => SKIPPED_DIRS.has(part));
  const found: string[] = [];
  let entries = 0;
  try {
    const exclude = (p: unknown): boolean => !skipsInRoot && typeof p === 'string' && SKIPPED_DIRS.has(path.basename(p));
    for await (const entry of fsp.glob(glob, { cwd: base, exclude })) {
      if (++entries > MAX_GLOB_ENTRIES) {
        notes.add('limit', `manifests: "${pattern}" matches more than ${MAX_GLOB_ENTRIES} paths; the rest are not searched.`);
        break;
      }
      const abs = path.resolve(base, entry);
      if (!skipped(abs)) found.push(abs);
    }
  } catch (err) {
    notes.add('pattern', `manifests: "${pattern}" cannot be expanded (${messageOf(err)}).`);
    return undefined;
  }
  const files: string[] = [];
  for (const f of found.sort()) {
    if (!YAML_FILE.test(f)) {
      files.push(f); // not a YAML file: the caller filters it out, but it still counts as a match
      continue;
    }
    const stat = await fsp.stat(f).catch(() => undefined);
    if (stat?.isFile()) files.push(f);
  }
  return files;
}

/** The leading segments of a glob that hold no wildcard: `k8s/base` for `k8s/base/*.yaml`. */
function staticPrefix(glob: string): string {
  const parts = glob.split('/');
  const i = parts.findIndex((part) => GLOB_MAGIC.test(part));
  const prefix = parts.slice(0, i === -1 ? parts.length : i).join('/');
  return prefix === '' && glob.startsWith('/') ? '/' : prefix;
}

/** The text of a manifest, or undefined (with a note) when it is too large or unreadable. */
async function readManifest(abs: string, display: string, notes: Notes): Promise<string | undefined> {
  try {
    const stat = await fsp.stat(abs);
    if (stat.size > MAX_FILE_BYTES) {
      notes.add('file', `manifests: ${display} is larger than ${MAX_FILE_BYTES / (1024 * 1024)} MB; skipped.`);
      return undefined;
    }
    return await fsp.readFile(abs, 'utf8');
  } catch (err) {
    notes.add('file', `manifests: cannot read ${display} (${messageOf(err)}).`);
    return undefined;
  }
}

/** Relative to `base` with forward slashes; absolute when the file lies outside it. */
function displayPath(abs: string, base: string): string {
  const rel = path.relative(base, abs);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return abs;
  return rel.split(path.sep).join('/');
}

// ---------------------------------------------------------------------------------------------
// The index

class Index {
  objectCount = 0;
  /** `kind\0name` → the objects of that kind and name, in reading order. */
  private readonly byName = new Map<string, Entry[]>();

  constructor(private readonly notes: Notes) {}

  addFile(display: string, source: string): void {
    const lines = new LineCounter();
    let docs: Document[];
    try {
      docs = parseAllDocuments(source, {
        lineCounter: lines,
        keepSourceTokens: true,
        prettyErrors: false,
        uniqueKeys: false,
      }) as Document[];
    } catch (err) {
      this.notes.add('file', `manifests: ${display} cannot be parsed (${messageOf(err)}); skipped.`);
      return;
    }
    const file: ParsedFile = { display, source, lines };
    for (const doc of docs) {
      if (doc.errors.length > 0) {
        const err = doc.errors[0]!;
        const line = lines.linePos(err.pos[0]).line;
        const what = docs.length > 1 ? 'that document is skipped' : 'skipped';
        this.notes.add('file', `manifests: ${display} line ${line} is not valid YAML (${firstLine(err.message)}); ${what}.`);
        continue;
      }
      this.addObject(file, doc, doc.contents, 0);
    }
  }

  private addObject(file: ParsedFile, doc: Document, node: unknown, depth: number): void {
    const map = deref(node, doc);
    if (!isMap(map)) return;
    const kind = stringAt(map, doc, ['kind']);
    if (kind === undefined) return;

    // `kind: List` (and typed lists such as `ConfigMapList`): the objects are its items.
    const items = deref(walk(map, doc, ['items']).node, doc);
    if (/List$/.test(kind) && isSeq(items)) {
      if (depth < 4) for (const item of items.items) this.addObject(file, doc, item, depth + 1);
      return;
    }

    const name = stringAt(map, doc, ['metadata', 'name']);
    if (name === undefined) return;
    const namespace = stringAt(map, doc, ['metadata', 'namespace']);
    const entry: Entry = { kind, name, namespace: namespace === '' ? undefined : namespace, file, doc, node: map };

    const key = `${kind}\0${name}`;
    const list = this.byName.get(key) ?? [];
    const first = list.find((e) => e.namespace === entry.namespace);
    if (first !== undefined) {
      this.notes.add(
        'duplicate',
        `manifests: ${describe(entry)} is defined more than once (${where(first)} and ${where(entry)}); the first is used.`,
      );
    } else {
      this.objectCount++;
    }
    list.push(entry);
    this.byName.set(key, list);
  }

  locate(target: ObjectPath): SourceLocation | undefined {
    const entry = this.find(target.object);
    if (entry === undefined) return undefined;
    const { doc, file } = entry;
    const pathSegs = target.path ?? [];

    let offset = objectOffset(entry);
    const reached = walk(entry.node, doc, pathSegs);
    if (reached.offset !== undefined) offset = reached.offset;
    let line = offset === undefined ? 1 : file.lines.linePos(offset).line;

    if (target.embedded !== undefined && target.embedded.length > 0 && reached.complete) {
      const value = deref(reached.node, doc);
      if (isScalar(value) && typeof value.value === 'string') {
        const inner = locateEmbedded(value, target.embedded, file);
        if (inner !== undefined) line = inner;
      }
    }
    return { file: file.display, line };
  }

  locateDashboard(uid: string, at?: readonly Segment[]): SourceLocation | undefined {
    for (const list of this.byName.values()) {
      for (const entry of list) {
        const holders: Walked[] =
          entry.kind === 'ConfigMap'
            ? (() => {
                const data = deref(walk(entry.node, entry.doc, ['data']).node, entry.doc);
                return isMap(data) ? data.items.map((pair) => ({ node: pair.value, offset: startOf(pair.key), complete: true })) : [];
              })()
            : entry.kind === 'GrafanaDashboard'
              ? [walk(entry.node, entry.doc, ['spec', 'json'])].filter((w) => w.complete)
              : [];
        for (const holder of holders) {
          const value = deref(holder.node, entry.doc);
          if (!isScalar(value) || typeof value.value !== 'string' || !value.value.includes(uid)) continue;
          let model: unknown;
          try {
            model = JSON.parse(value.value);
          } catch {
            continue;
          }
          if (typeof model !== 'object' || model === null || (model as { uid?: unknown }).uid !== uid) continue;
          const line = (at?.length ? locateEmbedded(value, at, entry.file) : undefined) ?? locateEmbedded(value, ['uid'], entry.file);
          const fallback = holder.offset === undefined ? 1 : entry.file.lines.linePos(holder.offset).line;
          return { file: entry.file.display, line: line ?? fallback };
        }
      }
    }
    return undefined;
  }

  /** The object `ref` names: an exact namespace match first, then a manifest without namespace. */
  private find(ref: ObjectRef): Entry | undefined {
    const list = this.byName.get(`${ref.kind}\0${ref.name}`);
    if (list === undefined) return undefined;
    if (ref.namespace === undefined || ref.namespace === '') return list[0];
    return list.find((e) => e.namespace === ref.namespace) ?? list.find((e) => e.namespace === undefined);
  }
}

/** Where an object is when no path is given: its `metadata.name`, else its `kind:`, else its start. */
function objectOffset(entry: Entry): number | undefined {
  const name = walk(entry.node, entry.doc, ['metadata', 'name']);
  if (name.complete) return name.offset;
  const kind = walk(entry.node, entry.doc, ['kind']);
  if (kind.complete) return kind.offset;
  return isNode(entry.node) ? entry.node.range?.[0] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Walking a YAML tree

interface Walked {
  /** The node at the end of the path (when complete) or at the deepest existing ancestor. */
  readonly node: unknown;
  /** Offset of the last key (or sequence item's `- `) reached; undefined when none was. */
  readonly offset: number | undefined;
  readonly complete: boolean;
}

/**
 * Follows `segs` from `root`: a string is a mapping key, a number a sequence index. Stops at the
 * deepest existing ancestor when the path does not exist.
 */
function walk(root: unknown, doc: Document, segs: readonly Segment[]): Walked {
  let node = deref(root, doc);
  let offset: number | undefined;
  for (const seg of segs) {
    let next: unknown;
    let at: number | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyMatches(deref(p.key, doc), seg));
      if (pair === undefined) return { node, offset, complete: false };
      at = startOf(pair.key) ?? startOf(pair.value);
      next = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && Number.isInteger(seg) && seg >= 0 && seg < node.items.length) {
      next = node.items[seg];
      at = seqItemStart(node, seg);
    } else {
      return { node, offset, complete: false };
    }
    if (at !== undefined) offset = at;
    node = deref(next, doc);
  }
  return { node, offset, complete: true };
}

function keyMatches(key: unknown, seg: Segment): boolean {
  if (isScalar(key)) return key.value !== null && key.value !== undefined && String(key.value) === String(seg);
  return typeof key === 'string' || typeof key === 'number' ? String(key) === String(seg) : false;
}

/** The node an alias points to (anchors are followed a few times at most). */
function deref(node: unknown, doc: Document): unknown {
  let current = node;
  for (let i = 0; i < 8 && isAlias(current); i++) {
    try {
      current = current.resolve(doc);
    } catch {
      return undefined;
    }
  }
  return isAlias(current) ? undefined : current;
}

function startOf(node: unknown): number | undefined {
  return isNode(node) ? node.range?.[0] : undefined;
}

/** Offset of a sequence item's `- ` (a block sequence's indicator), else of the item itself. */
function seqItemStart(seq: YAMLSeq, index: number): number | undefined {
  const token = seq.srcToken;
  if (token?.type === 'block-seq' && token.items.length === seq.items.length) {
    const indicator = token.items[index]?.start.find((t) => t.type === 'seq-item-ind');
    if (indicator !== undefined) return indicator.offset;
  }
  return startOf(seq.items[index]);
}

function stringAt(root: unknown, doc: Document, segs: readonly Segment[]): string | undefined {
  const walked = walk(root, doc, segs);
  if (!walked.complete) return undefined;
  const node = deref(walked.node, doc);
  return isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
}

// ---------------------------------------------------------------------------------------------
// Embedded YAML (a ConfigMap data value holding a YAML document)

/**
 * The file line of `segs` inside the YAML document held by the string `scalar`, or undefined when
 * the string is not YAML or nothing along `segs` exists in it.
 */
function locateEmbedded(scalar: Scalar, segs: readonly Segment[], file: ParsedFile): number | undefined {
  const text = scalar.value as string;
  const innerLines = new LineCounter();
  let docs: Document[];
  try {
    docs = parseAllDocuments(text, { lineCounter: innerLines, keepSourceTokens: true, prettyErrors: false, uniqueKeys: false }) as Document[];
  } catch {
    return undefined;
  }
  const doc = docs.find((d) => d.contents !== null);
  if (doc === undefined) return undefined;
  const walked = walk(doc.contents, doc, segs);
  if (walked.offset === undefined) return undefined;
  const innerLine = innerLines.linePos(walked.offset).line; // 1-based, within the string

  const range = scalar.range;
  if (range === undefined || range === null) return undefined;
  const startLine = file.lines.linePos(range[0]).line;

  // `|`, `|-`, `|+`: the string's lines are the file's lines after the indicator, one for one.
  if (scalar.type === 'BLOCK_LITERAL') return startLine + innerLine;

  // Written on one line (plain or quoted, `\n` escapes included): that line.
  const written = file.source.slice(range[0], range[1]);
  const writtenLines = written.split(/\r?\n/);
  if (writtenLines.length <= 1 || (writtenLines.length === 2 && writtenLines[1]!.trim() === '')) return startLine;

  // Folded (`>`) or a multi-line flow string: lines may be joined, so look for the line's text.
  const stringLines = text.split('\n');
  const wanted = stringLines[innerLine - 1]?.trim() ?? '';
  if (wanted === '') return startLine;
  let occurrence = 0;
  for (let i = 0; i < innerLine - 1; i++) if (stringLines[i]!.trim() === wanted) occurrence++;
  const first = scalar.type === 'BLOCK_FOLDED' ? 1 : 0; // skip the `>` indicator's line
  for (let i = first; i < writtenLines.length; i++) {
    if (writtenLines[i]!.trim() !== wanted) continue;
    if (occurrence-- === 0) return startLine + i;
  }
  return startLine;
}

// ---------------------------------------------------------------------------------------------
// Notes and wording

/** Notes, at most MAX_NOTES_PER_KIND of each kind; the rest are counted in a closing note. */
class Notes {
  private readonly items: string[] = [];
  private readonly counts = new Map<string, number>();

  add(kind: string, text: string): void {
    const n = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, n);
    if (n <= MAX_NOTES_PER_KIND) this.items.push(text);
  }

  list(): string[] {
    const out = [...this.items];
    for (const [kind, n] of this.counts) {
      if (n > MAX_NOTES_PER_KIND) out.push(`manifests: ${n - MAX_NOTES_PER_KIND} more ${KIND_WORDS[kind] ?? 'problems'} not shown.`);
    }
    return out;
  }
}

const KIND_WORDS: Record<string, string> = {
  file: 'unreadable or invalid files',
  duplicate: 'duplicate objects',
  pattern: 'pattern problems',
};

function describe(entry: Entry): string {
  return `${entry.kind} ${entry.namespace === undefined ? '' : `${entry.namespace}/`}${entry.name}`;
}

function where(entry: Entry): string {
  const offset = objectOffset(entry);
  return offset === undefined ? entry.file.display : `${entry.file.display}:${entry.file.lines.linePos(offset).line}`;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/[.:]\s*$/, '');
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
