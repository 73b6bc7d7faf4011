// Prints the gzip size of every built JS and CSS file and the totals, so the bundle budget
// (150 KB of JS) can be checked after `npm run build`.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = new URL('../dist/assets/', import.meta.url).pathname;
if (!existsSync(dir)) {
  console.error('dist/assets not found: run `npm run build` first');
  process.exit(1);
}
const BUDGET_JS = 150 * 1024;
const totals = { js: 0, css: 0 };
const rows = [];
for (const name of readdirSync(dir).sort()) {
  const kind = name.endsWith('.js') ? 'js' : name.endsWith('.css') ? 'css' : null;
  if (!kind) continue;
  const raw = readFileSync(join(dir, name));
  const gz = gzipSync(raw, { level: 9 }).length;
  totals[kind] += gz;
  rows.push([name, raw.length, gz]);
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
for (const [name, raw, gz] of rows) console.log(`${name.padEnd(40)} ${kb(raw).padStart(10)}  gzip ${kb(gz).padStart(9)}`);
console.log(`total JS gzip:  ${kb(totals.js)} (budget ${kb(BUDGET_JS)})`);
console.log(`total CSS gzip: ${kb(totals.css)}`);
if (totals.js > BUDGET_JS) {
  console.error('JS is over budget');
  process.exit(1);
}
