// Bundles the CLI into dist/capsa.js: one file to load instead of dozens (start-up is the
// product, and each module costs a lookup and a compile), with the validators built before
// it (package.json "imports"), minified: V8 reads and scans the whole source on every start,
// and a quarter less of it saved ~1.5 ms per command. Then dist/boot.js, which bin/capsa
// runs: it loads the bundle with a code cache named for the bundle's hash (lib/boot.ts).
import { buildSync } from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const dist = join(root, 'dist');
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' } as const;
buildSync({
  ...common,
  entryPoints: [join(root, 'lib', 'main.ts')],
  outfile: join(dist, 'capsa.js'),
  minify: true,
  charset: 'ascii', // boot.js reads it as latin1, which is faster than decoding UTF-8
  define: { CAPSA_BUNDLED: 'true' },
  alias: {
    'node:child_process': join(root, 'lib', 'shims', 'child_process.ts'),
    child_process: join(root, 'lib', 'shims', 'child_process.ts'),
  },
});
const code = readFileSync(join(dist, 'capsa.js'));
const wide = code.findIndex((b) => b > 0x7f);
if (wide >= 0) throw new Error(`dist/capsa.js: a non-ASCII byte at offset ${wide} (esbuild left it unescaped): write it as \\u in the source`);
const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
for (const f of readdirSync(dist)) if (/^capsa\..*\.cache/.test(f)) rmSync(join(dist, f), { force: true });
buildSync({
  ...common,
  entryPoints: [join(root, 'lib', 'boot.ts')],
  outfile: join(dist, 'boot.js'),
  define: { CAPSA_BUNDLE_HASH: JSON.stringify(hash) },
});
