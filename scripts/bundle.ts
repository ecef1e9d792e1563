// Bundles the CLI into dist/capsa.js: one file to load instead of dozens (start-up is the
// product, and each module costs a lookup and a compile).
import { buildSync } from 'esbuild';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
buildSync({
  entryPoints: [join(root, 'lib', 'main.ts')],
  outfile: join(root, 'dist', 'capsa.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  define: { CAPSA_BUNDLED: 'true' },
  alias: {
    'node:child_process': join(root, 'lib', 'shims', 'child_process.ts'),
    child_process: join(root, 'lib', 'shims', 'child_process.ts'),
  },
  logLevel: 'warning',
});
