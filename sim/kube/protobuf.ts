/**
 * Just enough of the Kubernetes protobuf encoding to read the access reviews kubectl posts as
 * `application/vnd.kubernetes.protobuf`: the `k8s\0` + runtime.Unknown envelope, and the
 * authorization.k8s.io/v1 review spec (field numbers from its generated.proto).
 */
import { badRequest } from './status.js';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Fields = Map<number, (Buffer | number)[]>;

function readVarint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw badRequest('truncated protobuf message');
    const byte = buf[pos++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, pos];
    shift += 7;
  }
}

/** Field number → values (numbers for varints, bytes for length-delimited fields). */
function decodeFields(buf: Buffer): Fields {
  const fields: Fields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    let value: Buffer | number;
    switch (key & 7) {
      case 0:
        [value, pos] = readVarint(buf, afterKey);
        break;
      case 2: {
        const [length, start] = readVarint(buf, afterKey);
        value = buf.subarray(start, start + length);
        pos = start + length;
        break;
      }
      default:
        throw badRequest(`unsupported protobuf wire type ${key & 7}`);
    }
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const bytesOf = (f: Fields, n: number) => f.get(n)?.[0] as Buffer | undefined;
const str = (f: Fields, n: number) => bytesOf(f, n)?.toString('utf8');
const sub = (f: Fields, n: number) => {
  const b = bytesOf(f, n);
  return b ? decodeFields(b) : undefined;
};

export function isProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').startsWith('application/vnd.kubernetes.protobuf');
}

/** An access review sent as protobuf, as the JSON object the API would have received. */
export function decodeAccessReview(body: Buffer): unknown {
  if (!body.subarray(0, 4).equals(MAGIC)) throw badRequest('the body of the request was in an unknown format');
  const envelope = decodeFields(body.subarray(4));
  const object = decodeFields(bytesOf(envelope, 2) ?? Buffer.alloc(0));
  const spec: Fields = sub(object, 2) ?? new Map();
  const ra = sub(spec, 1);
  const nra = sub(spec, 2);
  const groups = (spec.get(4) ?? []).map((g) => (g as Buffer).toString('utf8'));
  return {
    spec: {
      ...(ra
        ? {
            resourceAttributes: {
              namespace: str(ra, 1),
              verb: str(ra, 2),
              group: str(ra, 3),
              version: str(ra, 4),
              resource: str(ra, 5),
              subresource: str(ra, 6),
              name: str(ra, 7),
            },
          }
        : {}),
      ...(nra ? { nonResourceAttributes: { path: str(nra, 1), verb: str(nra, 2) } } : {}),
      ...(str(spec, 3) !== undefined ? { user: str(spec, 3) } : {}),
      ...(groups.length ? { groups } : {}),
    },
  };
}
