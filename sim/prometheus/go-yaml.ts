/**
 * Writes YAML the way Go's gopkg.in/yaml.v2 (v2.4.0, the marshaller of Prometheus 2.42's
 * `Config.String()`) writes it, for the values a configuration section holds: block mappings in
 * the given key order, indentless block sequences under a key, `[]`/`{}` for empty ones, and
 * strings in the style the encoder picks (encode.go `stringv`: double-quoted when the plain form
 * would read back as another type, literal when multi-line; emitterc.go
 * `yaml_emitter_analyze_scalar`/`select_scalar_style`: single-quoted when a plain scalar is not
 * allowed) and folded past column 80 as its writers fold.
 */

export type GoNode =
  | { kind: 'str'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' }
  | { kind: 'map'; entries: Array<[string, GoNode]> }
  | { kind: 'seq'; items: GoNode[] };

export const str = (value: string): GoNode => ({ kind: 'str', value });
export const bool = (value: boolean): GoNode => ({ kind: 'bool', value });
export const nil: GoNode = { kind: 'null' };
export const map = (entries: Array<[string, GoNode]>): GoNode => ({ kind: 'map', entries });
export const seq = (items: GoNode[]): GoNode => ({ kind: 'seq', items });

/** yaml.v2's best_width. */
const BEST_WIDTH = 80;
const BEST_INDENT = 2;

// ---------------------------------------------------------------------------------------------
// resolve.go: what a plain scalar would read back as.

const RESOLVE_MAP = new Set([
  'y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON',
  'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF',
  '', '~', 'null', 'Null', 'NULL', '.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF',
  '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF', '<<',
]);
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
/** Go's time.Parse layouts of resolve.go allowedTimestampFormats, loosely (all start YYYY-). */
const TIMESTAMP = /^\d{4}-\d{1,2}-\d{1,2}(?:(?:[Tt]| )\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/** strconv.ParseInt/ParseUint with base 0 (0x, 0o, 0b and leading-0 octal prefixes). */
function goParsesInt(text: string): boolean {
  return /^[-+]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO]?[0-7]*|[1-9][0-9]*)$/.test(text);
}

/** Whether yaml.v2 reads `text`, unquoted, back as a string. */
function resolvesToString(text: string): boolean {
  const first = text[0];
  let hint: string | undefined;
  if (first === undefined) hint = 'N';
  else if (first === '+' || first === '-') hint = 'S';
  else if (first >= '0' && first <= '9') hint = 'D';
  else if ('yYnNtTfFoO~'.includes(first)) hint = 'M';
  else if (first === '.') hint = '.';
  if (hint === undefined) return true;
  if (RESOLVE_MAP.has(text)) return false;
  if (hint === '.') return !(YAML_STYLE_FLOAT.test(text) || /^\.(?:inf|nan)$/i.test(text));
  if (hint === 'D' || hint === 'S') {
    if (TIMESTAMP.test(text)) return false;
    const plain = text.replaceAll('_', '');
    if (goParsesInt(plain) || YAML_STYLE_FLOAT.test(plain) || /^-?0b[01]+$/.test(plain)) return false;
  }
  return true;
}

function isBase60Float(text: string): boolean {
  const c = text[0];
  if (c === undefined || !(c === '+' || c === '-' || (c >= '0' && c <= '9')) || !text.includes(':')) return false;
  return BASE60_FLOAT.test(text);
}

// ---------------------------------------------------------------------------------------------
// yamlprivateh.go character classes, on code points.

const isBreak = (c: string | undefined): boolean => c === '\r' || c === '\n' || c === '\u0085' || c === '\u2028' || c === '\u2029';
const isSpace = (c: string | undefined): boolean => c === ' ';
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';
const isBlankz = (c: string | undefined): boolean => c === undefined || c === '\0' || isBlank(c) || isBreak(c);
function isPrintable(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return cp === 0x0a || (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff);
}

interface Analysis {
  multiline: boolean;
  blockPlainAllowed: boolean;
  singleQuotedAllowed: boolean;
  blockAllowed: boolean;
}

/** emitterc.go yaml_emitter_analyze_scalar (block context: flow_plain_allowed is not needed). */
function analyze(chars: string[]): Analysis {
  if (chars.length === 0) return { multiline: false, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: false };
  let blockIndicators = false;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let previousSpace = false;
  let previousBreak = false;
  const head = chars.slice(0, 3).join('');
  if (head === '---' || head === '...') blockIndicators = true;
  let precededByWhitespace = true;
  chars.forEach((c, i) => {
    const followedByWhitespace = i + 1 >= chars.length || isBlank(chars[i + 1]);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) blockIndicators = true;
      else if ((c === '?' || c === ':' || c === '-') && followedByWhitespace) blockIndicators = true;
    } else if ((c === ':' && followedByWhitespace) || (c === '#' && precededByWhitespace)) {
      blockIndicators = true;
    }
    if (!isPrintable(c)) special = true;
    if (isSpace(c)) {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlankz(c);
  });
  const result: Analysis = { multiline: lineBreaks, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: true };
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) result.blockPlainAllowed = false;
  if (trailingSpace) result.blockAllowed = false;
  if (breakSpace) result.blockPlainAllowed = result.singleQuotedAllowed = false;
  if (spaceBreak || special) result.blockPlainAllowed = result.singleQuotedAllowed = result.blockAllowed = false;
  if (lineBreaks || blockIndicators) result.blockPlainAllowed = false;
  return result;
}

type Style = 'plain' | 'single' | 'double' | 'literal';

/** encode.go stringv, then emitterc.go yaml_emitter_select_scalar_style. */
function selectStyle(chars: string[], text: string, simpleKey: boolean): Style {
  let style: Style = text.includes('\n') ? 'literal' : resolvesToString(text) && !isBase60Float(text) ? 'plain' : 'double';
  const a = analyze(chars);
  if (simpleKey && a.multiline) style = 'double';
  if (style === 'plain' && (!a.blockPlainAllowed || (chars.length === 0 && simpleKey))) style = 'single';
  if (style === 'single' && !a.singleQuotedAllowed) style = 'double';
  if (style === 'literal' && (!a.blockAllowed || simpleKey)) style = 'double';
  return style;
}

// ---------------------------------------------------------------------------------------------
// The writer: text, column and the emitter's whitespace/indention flags.

class Writer {
  text = '';
  column = 0;
  whitespace = true;
  indention = true;

  put(c: string): void {
    this.text += c;
    this.column++;
  }

  newline(): void {
    this.text += '\n';
    this.column = 0;
  }

  /** yaml_emitter_write_indent. */
  indent(indent: number): void {
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.newline();
    while (this.column < indent) this.put(' ');
    this.whitespace = true;
    this.indention = true;
  }

  /** yaml_emitter_write_indicator. */
  indicator(text: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ');
    for (const c of text) this.put(c);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
  }
}

const ESCAPES: Record<number, string> = {
  0x00: '0', 0x07: 'a', 0x08: 'b', 0x09: 't', 0x0a: 'n', 0x0b: 'v', 0x0c: 'f', 0x0d: 'r', 0x1b: 'e',
  0x22: '"', 0x5c: '\\', 0x85: 'N', 0xa0: '_', 0x2028: 'L', 0x2029: 'P',
};

/**
 * Writes a scalar; `indent` is the emitter's indent while writing it (continuation lines).
 * Strings go through `stringv`'s choice; booleans and null are emitted plain (`boolv`, `nilv`).
 */
function writeScalar(w: Writer, text: string, indent: number, simpleKey: boolean, isString = true): void {
  const chars = Array.from(text);
  const style = isString ? selectStyle(chars, text, simpleKey) : 'plain';
  const allowBreaks = !simpleKey;
  if (style === 'plain') {
    if (!w.whitespace) w.put(' ');
    let spaces = false;
    let breaks = false;
    chars.forEach((c, i) => {
      if (isSpace(c)) {
        if (allowBreaks && !spaces && w.column > BEST_WIDTH && !isSpace(chars[i + 1])) w.indent(indent);
        else w.put(c);
        spaces = true;
      } else {
        if (breaks) w.indent(indent);
        w.put(c);
        w.indention = false;
        spaces = false;
        breaks = false;
      }
    });
    w.whitespace = false;
    w.indention = false;
    return;
  }
  if (style === 'single') {
    w.indicator("'", true, false, false);
    let spaces = false;
    chars.forEach((c, i) => {
      if (isSpace(c)) {
        if (allowBreaks && !spaces && w.column > BEST_WIDTH && i > 0 && i < chars.length - 1 && !isSpace(chars[i + 1])) w.indent(indent);
        else w.put(c);
        spaces = true;
      } else {
        if (c === "'") w.put("'");
        w.put(c);
        w.indention = false;
        spaces = false;
      }
    });
    w.indicator("'", false, false, false);
    w.whitespace = false;
    w.indention = false;
    return;
  }
  if (style === 'literal') {
    w.indicator('|', true, false, false);
    if (isSpace(chars[0]) || isBreak(chars[0])) w.put(String(BEST_INDENT));
    const last = chars[chars.length - 1];
    if (!isBreak(last)) w.put('-');
    else if (chars.length === 1 || isBreak(chars[chars.length - 2])) w.put('+');
    w.newline();
    w.indention = true;
    w.whitespace = true;
    let breaks = true;
    for (const c of chars) {
      if (isBreak(c)) {
        w.newline();
        w.indention = true;
        breaks = true;
      } else {
        if (breaks) w.indent(indent);
        w.put(c);
        w.indention = false;
        breaks = false;
      }
    }
    return;
  }
  w.indicator('"', true, false, false);
  let spaces = false;
  chars.forEach((c, i) => {
    const cp = c.codePointAt(0)!;
    if (!isPrintable(c) || cp === 0xfeff || isBreak(c) || c === '"' || c === '\\') {
      w.put('\\');
      const short = ESCAPES[cp];
      if (short !== undefined) w.put(short);
      else {
        const [prefix, width] = cp <= 0xff ? ['x', 2] : cp <= 0xffff ? ['u', 4] : ['U', 8];
        w.put(prefix);
        for (const d of cp.toString(16).toUpperCase().padStart(width, '0')) w.put(d);
      }
      spaces = false;
    } else if (isSpace(c)) {
      if (allowBreaks && !spaces && w.column > BEST_WIDTH && i > 0 && i < chars.length - 1) {
        w.indent(indent);
        if (isSpace(chars[i + 1])) w.put('\\');
      } else w.put(c);
      spaces = true;
    } else {
      w.put(c);
      spaces = false;
    }
  });
  w.indicator('"', false, false, false);
  w.whitespace = false;
  w.indention = false;
}

function writeNode(w: Writer, node: GoNode, indent: number, inMapping: boolean): void {
  switch (node.kind) {
    case 'str':
      return writeScalar(w, node.value, indent + BEST_INDENT, false);
    case 'bool':
      return writeScalar(w, node.value ? 'true' : 'false', indent + BEST_INDENT, false, false);
    case 'null':
      return writeScalar(w, 'null', indent + BEST_INDENT, false, false);
    case 'map':
      if (node.entries.length === 0) return w.indicator('{}', true, false, false);
      return writeMapping(w, node.entries, indent + BEST_INDENT);
    case 'seq': {
      if (node.items.length === 0) return w.indicator('[]', true, false, false);
      // Under a mapping key a sequence is not indented (yaml_emitter_emit_block_sequence_item).
      const itemIndent = inMapping && !w.indention ? indent : indent + BEST_INDENT;
      for (const item of node.items) {
        w.indent(itemIndent);
        w.indicator('-', true, false, true);
        writeNode(w, item, itemIndent, false);
      }
      return;
    }
  }
}

function writeMapping(w: Writer, entries: Array<[string, GoNode]>, indent: number): void {
  for (const [key, value] of entries) {
    w.indent(indent);
    writeScalar(w, key, indent, true);
    w.indicator(':', false, false, false);
    writeNode(w, value, indent, true);
  }
}

/**
 * The lines of `key: value` as yaml.v2 writes them inside a mapping whose keys are at column
 * `indent` (for a sequence value, its items are at that column too). Ends with a newline.
 */
export function goYamlEntry(key: string, value: GoNode, indent: number): string {
  const w = new Writer();
  w.whitespace = true;
  w.indention = true;
  writeMapping(w, [[key, value]], indent);
  // A literal scalar's last line break ends the line already.
  return w.column === 0 ? w.text : `${w.text}\n`;
}

/** A whole document (a mapping at the top level), as `yaml.Marshal` returns it. */
export function goYamlDocument(entries: Array<[string, GoNode]>): string {
  if (entries.length === 0) return '{}\n';
  const w = new Writer();
  writeMapping(w, entries, 0);
  return w.column === 0 ? w.text : `${w.text}\n`;
}
