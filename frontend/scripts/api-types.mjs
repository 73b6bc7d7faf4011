// The web app's API types, generated from the backend's OpenAPI document (openapi.json, which
// `backend openapi` prints), so enum values and field names are spelled once, in Rust.
//
//   node scripts/api-types.mjs          writes src/lib/api.gen.ts   (npm run gen:api)
//   node scripts/api-types.mjs --check  fails when that file is not what the document gives
//                                       (npm run check:api)
//
// swagger-typescript-api rather than openapi-typescript: the latter builds its output with
// TypeScript 5's compiler API (a peer dependency), which the app's TypeScript 7 no longer
// ships; this one brings its own TypeScript.
import { readFileSync, writeFileSync } from 'node:fs';
import { generateApi } from 'swagger-typescript-api';

const input = new URL('../openapi.json', import.meta.url).pathname;
const target = new URL('../src/lib/api.gen.ts', import.meta.url).pathname;
const HEADER = '// Generated from frontend/openapi.json by `npm run gen:api`; do not edit by hand.\n';

async function generate() {
  const { files } = await generateApi({
    input,
    output: false,
    fileName: 'api.gen.ts',
    // Types only: the app has its own fetch wrapper (lib/api-client.ts).
    generateClient: false,
    enumStyle: 'union',
    // One interface per operation's query and path parameters, e.g. `ListTasksParams`.
    extractRequestParams: true,
    typeOnlyImports: true,
    silent: true,
  });
  if (files.length !== 1) throw new Error(`expected one generated file, got ${files.length}`);
  return HEADER + files[0].fileContent;
}

const generated = await generate();
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    // A missing file is a difference like any other.
  }
  if (committed !== generated) {
    const a = committed.split('\n');
    const b = generated.split('\n');
    let line = 0;
    while (line < Math.max(a.length, b.length) && a[line] === b[line]) line += 1;
    console.error(`src/lib/api.gen.ts is not what openapi.json gives (first difference at line ${line + 1}):`);
    console.error(`  committed: ${a[line] ?? '(end of file)'}`);
    console.error(`  generated: ${b[line] ?? '(end of file)'}`);
    console.error('Run `npm run gen:api` (after `cargo run -p backend -- openapi > frontend/openapi.json`).');
    process.exit(1);
  }
  console.log('src/lib/api.gen.ts matches openapi.json');
} else {
  writeFileSync(target, generated);
}
