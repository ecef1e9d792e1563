// Encoding and decoding of protocol messages; the format is described in ./spec.ts.
import { ATTR_HEADER_SIZE, Attr, AttrName, HEADER_SIZE, MAGIC, MAX_DEPTH, MAX_MESSAGE, VERSION } from './spec';

const pad4 = (n: number) => (n + 3) & ~3;

/** Builds one attribute list; `message()` wraps it in a header. */
export class Writer {
  private chunks: Buffer[] = [];
  private size = 0;

  private put(name: AttrName, payload: Buffer): this {
    const head = Buffer.alloc(ATTR_HEADER_SIZE);
    head.writeUInt16LE(Attr[name].id, 0);
    head.writeUInt32LE(payload.length, 4);
    const padded = pad4(payload.length);
    this.chunks.push(head, payload);
    if (padded > payload.length) this.chunks.push(Buffer.alloc(padded - payload.length));
    this.size += ATTR_HEADER_SIZE + padded;
    return this;
  }

  u32(name: AttrName, v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.put(name, b);
  }

  u64(name: AttrName, v: bigint | number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return this.put(name, b);
  }

  i64(name: AttrName, v: bigint | number): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(v));
    return this.put(name, b);
  }

  str(name: AttrName, s: string): this {
    const body = Buffer.from(s, 'utf8');
    if (body.includes(0)) throw new Error(`protocol: ${name}: string contains a NUL byte`);
    return this.put(name, Buffer.concat([body, Buffer.alloc(1)]));
  }

  strs(name: AttrName, list: readonly string[]): this {
    for (const s of list) this.str(name, s);
    return this;
  }

  bytes(name: AttrName, b: Uint8Array): this {
    return this.put(name, Buffer.from(b));
  }

  nest(name: AttrName, fill: (w: Writer) => void): this {
    const inner = new Writer();
    fill(inner);
    return this.put(name, inner.body());
  }

  body(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }

  message(type: number): Buffer {
    const body = this.body();
    if (body.length > MAX_MESSAGE) throw new Error(`protocol: message of ${body.length} bytes exceeds ${MAX_MESSAGE}`);
    const head = Buffer.alloc(HEADER_SIZE);
    head.writeUInt32LE(MAGIC, 0);
    head.writeUInt16LE(VERSION, 4);
    head.writeUInt16LE(type, 6);
    head.writeUInt32LE(body.length, 8);
    return Buffer.concat([head, body]);
  }
}

const byId = new Map<number, { name: AttrName; kind: string }>(
  Object.entries(Attr).map(([name, a]) => [a.id, { name: name as AttrName, kind: a.kind }]),
);

/** A decoded attribute list: each name maps to its values in order. */
export class Attrs {
  constructor(private readonly map: Map<AttrName, Buffer[]>) {}
  private first(name: AttrName): Buffer | undefined {
    return this.map.get(name)?.[0];
  }
  has(name: AttrName): boolean {
    return this.map.has(name);
  }
  u32(name: AttrName): number | undefined {
    return this.first(name)?.readUInt32LE(0);
  }
  u64(name: AttrName): bigint | undefined {
    return this.first(name)?.readBigUInt64LE(0);
  }
  str(name: AttrName): string | undefined {
    const b = this.first(name);
    return b && b.toString('utf8', 0, b.length - 1);
  }
  strs(name: AttrName): string[] {
    return (this.map.get(name) ?? []).map((b) => b.toString('utf8', 0, b.length - 1));
  }
  bytes(name: AttrName): Buffer | undefined {
    return this.first(name);
  }
  nests(name: AttrName): Attrs[] {
    return (this.map.get(name) ?? []).map((b) => parseAttrs(b, 1));
  }
}

export class ProtocolError extends Error {}

/** Parses an attribute list with the same checks capsa-init applies. */
export function parseAttrs(buf: Buffer, depth = 0): Attrs {
  const map = new Map<AttrName, Buffer[]>();
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < ATTR_HEADER_SIZE) throw new ProtocolError(`truncated attribute header at ${off}`);
    const id = buf.readUInt16LE(off);
    const len = buf.readUInt32LE(off + 4);
    const def = byId.get(id);
    if (!def) throw new ProtocolError(`unknown attribute ${id} at ${off}`);
    const start = off + ATTR_HEADER_SIZE;
    if (len > buf.length - start) throw new ProtocolError(`attribute ${def.name} length ${len} overruns the message`);
    const payload = buf.subarray(start, start + len);
    checkKind(def.name, def.kind, payload, depth);
    const list = map.get(def.name);
    if (list) list.push(payload);
    else map.set(def.name, [payload]);
    off = start + Math.min(pad4(len), buf.length - start);
  }
  return new Attrs(map);
}

function checkKind(name: string, kind: string, p: Buffer, depth: number): void {
  const bad = (why: string) => new ProtocolError(`attribute ${name}: ${why}`);
  switch (kind) {
    case 'u32':
      if (p.length !== 4) throw bad(`length ${p.length}, want 4`);
      break;
    case 'u64':
    case 'i64':
      if (p.length !== 8) throw bad(`length ${p.length}, want 8`);
      break;
    case 'str':
      if (p.length < 1 || p.indexOf(0) !== p.length - 1) throw bad('not a NUL-terminated string');
      break;
    case 'nest':
      if (depth + 1 >= MAX_DEPTH) throw bad('nested too deep');
      parseAttrs(p, depth + 1);
      break;
  }
}

export interface Message {
  type: number;
  attrs: Attrs;
}

/** Reads the header of a message; returns the body length it announces. */
export function parseHeader(head: Buffer): { type: number; length: number } {
  if (head.length !== HEADER_SIZE) throw new ProtocolError(`header of ${head.length} bytes`);
  if (head.readUInt32LE(0) !== MAGIC) throw new ProtocolError('bad magic');
  const version = head.readUInt16LE(4);
  if (version !== VERSION) throw new ProtocolError(`version ${version}, want ${VERSION}`);
  const length = head.readUInt32LE(8);
  if (length > MAX_MESSAGE) throw new ProtocolError(`message length ${length} exceeds ${MAX_MESSAGE}`);
  return { type: head.readUInt16LE(6), length };
}
