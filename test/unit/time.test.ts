import t from 'tap';
import { isoTime } from '../../lib/time';

t.test('isoTime prints what Date#toISOString prints', async (t) => {
  const edges = [
    0, -1, 86_399_999, 86_400_000, 951_782_400_000 /* 2000-02-29 */, 951_868_800_000 /* 2000-03-01 */,
    4_107_542_400_000 /* 2100-03-01 */, -2_208_988_800_000 /* 1900-01-01 */, -62_167_219_200_000 /* 0000-01-01 */,
    253_402_300_799_999 /* 9999-12-31T23:59:59.999 */, Date.now(),
  ];
  for (const ms of edges) t.equal(isoTime(ms), new Date(ms).toISOString(), String(ms));
  let bad = 0;
  for (let i = 0; i < 200_000; i++) {
    const ms = Math.floor(Math.random() * (253_402_300_799_999 + 62_167_219_200_000)) - 62_167_219_200_000;
    if (isoTime(ms) !== new Date(ms).toISOString() && bad++ < 5) t.fail(`${ms}: ${isoTime(ms)} != ${new Date(ms).toISOString()}`);
  }
  t.equal(bad, 0, '200000 random times over years 0-9999 agree');
  t.match(isoTime(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'now by default');
});
