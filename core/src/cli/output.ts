// Small terminal helpers: colours only on a TTY (and never with NO_COLOR), aligned tables, sizes.
import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];
const useColor = () => Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

export function paint(style: Style, text: string): string {
  return useColor() ? styleText(style, text) : text;
}

// eslint-disable-next-line no-control-regex
const ansi = /\x1b\[[0-9;]*m/g;
const width = (s: string) => [...s.replace(ansi, '')].length;

/** Rows of cells as aligned columns (two spaces apart); the first row is the header. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, width(cell))));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i] - width(cell)))).join('  ').trimEnd())
    .join('\n');
}

/** 1536 → "1.5 KiB". */
export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Lines of text on stdout. Not console.log: its first call sets up the console, a millisecond or two of a short run. */
export function printLines(lines: string[]): void {
  process.stdout.write(lines.join('\n') + '\n');
}
