// dist/boot.js, what bin/capsa runs: it loads the CLI bundle (dist/capsa.js) with a V8 code
// cache, so a command does not parse and compile the whole CLI again on every start. Each
// command word keeps its own cache (exactly the functions that command compiled), written by
// its first successful run (so a mistyped command leaves nothing), or when V8 rejected it
// (another node). V8 checks a cache against the source's length only, so the file name
// carries the bundle's hash; a cache never changes what runs, only how fast it starts.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { commandWord } from './argv';

declare const CAPSA_BUNDLE_HASH: string;

const bundle = join(__dirname, 'capsa.js');
const cachePath = join(__dirname, `capsa.${CAPSA_BUNDLE_HASH}.${commandWord(process.argv.slice(2)) ?? 'none'}.cache`);
let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(cachePath);
} catch {
  // not written yet
}
const script = new Script(wrap(readFileSync(bundle, 'latin1')), { filename: bundle, cachedData });
if (!cachedData || script.cachedDataRejected) {
  process.once('exit', (code) => {
    if (code !== 0) return;
    const tmp = `${cachePath}.${process.pid}`;
    try {
      writeFileSync(tmp, script.createCachedData(), { mode: 0o644 });
      renameSync(tmp, cachePath);
    } catch {
      rmSync(tmp, { force: true }); // a read-only install runs without
    }
  });
}
script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, __dirname);
