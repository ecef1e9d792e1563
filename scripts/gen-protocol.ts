// Writes native/gen/protocol.h from lib/protocol/spec.ts, the protocol's one description.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as P from '../lib/protocol/spec';

const kinds = ['none', 'u32', 'u64', 'i64', 'str', 'bytes', 'nest'] as const;
const hex = (n: number) => '0x' + n.toString(16);
const attrs = Object.entries(P.Attr);
const maxId = Math.max(...attrs.map(([, a]) => a.id));

const lines = [
  '/* Generated from lib/protocol/spec.ts by scripts/gen-protocol.ts: edit that file instead. */',
  '#ifndef CAPSA_PROTOCOL_H',
  '#define CAPSA_PROTOCOL_H',
  `#define CAPSA_MAGIC ${hex(P.MAGIC)}u`,
  `#define CAPSA_VERSION ${P.VERSION}`,
  `#define CAPSA_HEADER_SIZE ${P.HEADER_SIZE}`,
  `#define CAPSA_ATTR_HEADER_SIZE ${P.ATTR_HEADER_SIZE}`,
  `#define CAPSA_MAX_MESSAGE ${P.MAX_MESSAGE}u`,
  `#define CAPSA_MAX_DEPTH ${P.MAX_DEPTH}`,
  `#define CAPSA_ATTR_MAX ${maxId}`,
  `#define CAPSA_FIFO_OK ${hex(P.FIFO_OK)}`,
  `#define CAPSA_FIFO_ERR ${hex(P.FIFO_ERR)}`,
  '',
  'enum capsa_kind { ' + kinds.map((k, i) => `CAPSA_K_${k.toUpperCase()} = ${i}`).join(', ') + ' };',
  'enum capsa_msg {',
  ...Object.entries(P.Msg).map(([k, v]) => `  CAPSA_MSG_${k} = ${v},`),
  '};',
  'enum capsa_mode { ' + Object.entries(P.Mode).map(([k, v]) => `CAPSA_MODE_${k} = ${v}`).join(', ') + ' };',
  'enum capsa_hook_kind { ' + Object.entries(P.HookKind).map(([k, v]) => `CAPSA_HOOK_${k} = ${v}`).join(', ') + ' };',
  'enum capsa_attr {',
  ...attrs.map(([k, a]) => `  CAPSA_A_${k} = ${a.id}, /* ${a.kind}: ${a.doc.replace(/\*\//g, '* /')} */`),
  '};',
  '',
  '/* The kind of each attribute id; CAPSA_K_NONE marks ids that do not exist. */',
  `static const unsigned char capsa_attr_kind[CAPSA_ATTR_MAX + 1] = {`,
  ...attrs.map(([k, a]) => `  [CAPSA_A_${k}] = CAPSA_K_${a.kind.toUpperCase()},`),
  '};',
  '#endif',
  '',
];

const dir = join(__dirname, '..', '..', 'native', 'gen');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'protocol.h'), lines.join('\n'));
