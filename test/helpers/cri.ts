// A minimal CRI client, as the kubelet is one: gRPC (HTTP/2, length-prefixed protobuf) on
// containerd's socket, runtime.v1.RuntimeService. Messages are built with a small protobuf
// writer from the field numbers of k8s.io/cri-api's api.proto; only what the tests use.
import { connect, ClientHttp2Session, constants } from 'node:http2';
import { connect as netConnect } from 'node:net';

/** A protobuf message: field number → value. Nested objects are messages; arrays repeat. */
export type Fields = { [field: number]: Value | Value[] | undefined };
type Value = string | number | bigint | boolean | Buffer | Fields;

function varint(n: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

export function encode(msg: Fields): Buffer {
  const parts: Buffer[] = [];
  for (const [k, raw] of Object.entries(msg)) {
    if (raw === undefined) continue;
    const field = BigInt(k);
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') {
        parts.push(varint(field << 3n), varint(BigInt(v)));
      } else {
        const body = typeof v === 'string' ? Buffer.from(v) : Buffer.isBuffer(v) ? v : encode(v);
        parts.push(varint((field << 3n) | 2n), varint(BigInt(body.length)), body);
      }
    }
  }
  return Buffer.concat(parts);
}

/** Decodes one level: field number → raw values (bigint for varints, Buffer for the rest). */
export function decode(buf: Buffer): Map<number, (bigint | Buffer)[]> {
  const fields = new Map<number, (bigint | Buffer)[]>();
  let i = 0;
  const readVarint = () => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (i < buf.length) {
    const key = readVarint();
    const [field, type] = [Number(key >> 3n), Number(key & 7n)];
    let v: bigint | Buffer;
    if (type === 0) v = readVarint();
    else if (type === 2) {
      const len = Number(readVarint());
      v = buf.subarray(i, i + len);
      i += len;
    } else if (type === 1) {
      v = buf.readBigUInt64LE(i);
      i += 8;
    } else if (type === 5) {
      v = BigInt(buf.readUInt32LE(i));
      i += 4;
    } else throw new Error(`protobuf wire type ${type} at ${i}`);
    fields.set(field, [...(fields.get(field) ?? []), v]);
  }
  return fields;
}

export const str = (m: Map<number, (bigint | Buffer)[]>, f: number) => (m.get(f)?.[0] as Buffer | undefined)?.toString() ?? '';
export const num = (m: Map<number, (bigint | Buffer)[]>, f: number) => Number(BigInt.asIntN(64, (m.get(f)?.[0] as bigint | undefined) ?? 0n));
export const sub = (m: Map<number, (bigint | Buffer)[]>, f: number) => decode((m.get(f)?.[0] as Buffer | undefined) ?? Buffer.alloc(0));

export class CriError extends Error {
  constructor(readonly method: string, readonly code: number, readonly details: string) {
    super(`${method}: gRPC status ${code}: ${details}`);
  }
}

export class CriClient {
  private current?: ClientHttp2Session;

  constructor(private socket: string) {}

  /** The connection, made again if the server closed it (a GOAWAY, as gRPC servers send). */
  private get session(): ClientHttp2Session {
    if (!this.current || this.current.closed || this.current.destroyed) {
      const s = connect('http://localhost', { createConnection: () => netConnect(this.socket) });
      s.on('error', () => {});
      s.on('goaway', () => s.close());
      this.current = s;
    }
    return this.current;
  }

  /** Calls runtime.v1.RuntimeService/<method>; resolves to the decoded reply. */
  call(method: string, req: Fields, timeoutMs = 60000): Promise<Map<number, (bigint | Buffer)[]>> {
    const body = encode(req);
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    return new Promise((resolve, reject) => {
      const s = this.session.request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: `/runtime.v1.RuntimeService/${method}`,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const chunks: Buffer[] = [];
      let status: number | undefined;
      let message = '';
      const grpcStatus = (h: Record<string, unknown>) => {
        if (h['grpc-status'] !== undefined) {
          status = Number(h['grpc-status']);
          message = decodeURIComponent(String(h['grpc-message'] ?? ''));
        }
      };
      s.setTimeout(timeoutMs, () => s.close(constants.NGHTTP2_CANCEL));
      s.on('response', grpcStatus);
      s.on('trailers', grpcStatus);
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('error', reject);
      s.on('close', () => {
        if (status === undefined) return reject(new CriError(method, -1, 'no gRPC status (closed or timed out)'));
        if (status !== 0) return reject(new CriError(method, status, message));
        const data = Buffer.concat(chunks);
        resolve(decode(data.length >= 5 ? data.subarray(5, 5 + data.readUInt32BE(1)) : Buffer.alloc(0)));
      });
      s.end(frame);
    });
  }

  close(): void {
    this.current?.close();
  }
}
