// Orders ids (plugin names, guest ids: lowercase ASCII by schema) by code point. Not
// localeCompare: its first call builds ICU's collator, about 15 ms of a short CLI run.
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
