import t from 'tap';
import { parseAttrs, parseHeader, Writer } from '../../lib/protocol/codec';
import { Attr, HEADER_SIZE, MAGIC, MAX_MESSAGE, Msg, VERSION } from '../../lib/protocol/spec';

t.test('attributes round-trip in order', async (t) => {
  const body = new Writer()
    .u32('UID', 1000)
    .u64('CAP_BOUNDING', 0xffffffffffn)
    .i64('OOM_SCORE_ADJ', -999)
    .strs('ARG', ['sh', '-c', 'echo é'])
    .nest('MOUNT', (n) => n.str('M_DEST', '/proc').u64('M_FLAGS', 14))
    .body();
  const a = parseAttrs(body);
  t.equal(a.u32('UID'), 1000);
  t.equal(a.u64('CAP_BOUNDING'), 0xffffffffffn);
  t.equal(a.bytes('OOM_SCORE_ADJ')!.readBigInt64LE(0), -999n);
  t.same(a.strs('ARG'), ['sh', '-c', 'echo é']);
  const [m] = a.nests('MOUNT');
  t.equal(m.str('M_DEST'), '/proc');
  t.equal(m.u64('M_FLAGS'), 14n);
});

t.test('the header carries magic, version, type and length', async (t) => {
  const msg = new Writer().u32('PID', 7).message(Msg.PID);
  t.equal(msg.readUInt32LE(0), MAGIC);
  const h = parseHeader(msg.subarray(0, HEADER_SIZE));
  t.same(h, { type: Msg.PID, length: msg.length - HEADER_SIZE });
  const bad = Buffer.from(msg);
  bad.writeUInt16LE(VERSION + 1, 4);
  t.throws(() => parseHeader(bad.subarray(0, HEADER_SIZE)), /version 2, want 1/);
  const huge = Buffer.from(msg);
  huge.writeUInt32LE(MAX_MESSAGE + 1, 8);
  t.throws(() => parseHeader(huge.subarray(0, HEADER_SIZE)), /exceeds/);
});

t.test('malformed attribute lists are refused', async (t) => {
  const ok = new Writer().str('CWD', '/').body();
  t.throws(() => parseAttrs(ok.subarray(0, 5)), /truncated/);
  const overrun = Buffer.from(ok);
  overrun.writeUInt32LE(1000, 4);
  t.throws(() => parseAttrs(overrun), /overruns/);
  const unknown = Buffer.from(ok);
  unknown.writeUInt16LE(9999, 0);
  t.throws(() => parseAttrs(unknown), /unknown attribute/);
  const wrongLen = new Writer().u64('UID', 1).body(); // UID is a u32
  t.throws(() => parseAttrs(wrongLen), /want 4/);
  const noNul = Buffer.from(ok);
  noNul[8 + 1] = 0x41; // overwrite the terminating NUL of "/"
  t.throws(() => parseAttrs(noNul), /NUL/);
  t.throws(() => new Writer().str('CWD', 'a\0b'), /NUL/);
});

t.test('nesting is bounded', async (t) => {
  const deep = new Writer().nest('MOUNT', (n) => n.nest('DEVICE', (d) => d.str('D_PATH', '/x'))).body();
  t.throws(() => parseAttrs(deep), /nested too deep/);
});

t.test('attribute ids are unique', async (t) => {
  const ids = Object.values(Attr).map((a) => a.id);
  t.equal(new Set(ids).size, ids.length);
});
