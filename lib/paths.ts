// Where capsa's own files are. The same code runs from the esbuild bundle (dist/capsa.js)
// and from tsc's output (dist/lib/...), which sit at different depths.
import { join } from 'node:path';

declare const CAPSA_BUNDLED: boolean | undefined;

export const root = typeof CAPSA_BUNDLED !== 'undefined' ? join(__dirname, '..') : join(__dirname, '..', '..');
export const buildDir = join(root, 'build', 'Release');
export const addonPath = join(buildDir, 'capsa.node');
export const initPath = join(buildDir, 'capsa-init');
/** The config and process validators, compiled to standalone code at build time; code loads
 *  them as `#validators` (package.json "imports" names this file), so the bundle carries them. */
export const validatorsPath = join(root, 'dist', 'validators.js');
