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
