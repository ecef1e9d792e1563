// dist/boot.js's code caches: a successful run of a command writes its cache, a failed one
// writes none, and a cache V8 cannot use (garbage, another bundle's) changes nothing but
// speed: the command works and the cache is written anew. Other tests (and containerd's
// shim) may run `features` meanwhile: they can only write a good cache too, which these
// checks accept.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CAPSA, ROOT_DIR } from '../helpers/capsa';

const dist = join(ROOT_DIR, 'dist');
const caches = (word: string) => readdirSync(dist).filter((f) => f.startsWith('capsa.') && f.endsWith(`.${word}.cache`));
const capsa = (...args: string[]) => spawnSync(CAPSA, args, { encoding: 'utf8' });

if (!existsSync(CAPSA)) t.plan(0, 'bin/capsa is not built (npm run build)');
else {
  t.test('a successful run writes its command\'s cache; a garbage cache is replaced, output unchanged', async (t) => {
    for (const f of caches('features')) rmSync(join(dist, f));
    const first = capsa('features');
    t.equal(first.status, 0, first.stderr);
    const [cache] = caches('features');
    t.ok(cache, 'features wrote a cache');
    const path = join(dist, cache);
    const good = readFileSync(path);
    t.ok(good.length > 1000, `${good.length} bytes`);
    writeFileSync(path, Buffer.alloc(good.length, 0x5a));
    const again = capsa('features');
    t.equal(again.status, 0, again.stderr);
    t.equal(again.stdout, first.stdout, 'a rejected cache changes nothing that runs');
    t.notOk(readFileSync(path).equals(Buffer.alloc(good.length, 0x5a)), 'and is written anew');
    t.same(readdirSync(dist).filter((f) => f.includes('.features.cache.')), [], 'no temp file left');
  });

  t.test('a failed run writes no cache', async (t) => {
    const r = capsa('nosuchcommandword');
    t.equal(r.status, 1);
    t.same(caches('nosuchcommandword'), []);
  });
}
