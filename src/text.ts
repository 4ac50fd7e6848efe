/**
 * Small text helpers with no dependency, for modules that must load fast (the inputs are parsed
 * before the HTTP stack is loaded, so a bad input fails the step at once).
 */

/** `text` without its trailing slashes. */
export function trimTrailingSlashes(text: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === '/') end--;
  return text.slice(0, end);
}

/** Orders two strings by code unit (object names, which are ASCII): a comparator for sort(). */
export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whether `text` matches `glob`, where `*` is any run of characters (`/` included) and `?` one
 * character; everything else is literal. Greedy with one backtrack point: linear in practice,
 * never exponential, whatever the input.
 */
export function globMatches(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (g < glob.length && (glob[g] === '?' || (glob[g] !== '*' && glob[g] === text[t]))) {
      g++;
      t++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      mark = t;
    } else if (star !== -1) {
      g = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}
