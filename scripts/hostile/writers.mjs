// Writers of the model formats for the hostile corpus, independent of the library's readers:
// safetensors (a JSON header written as text, so keys can repeat), torch.save ZIP archives
// (stored members, real CRC-32s from node:zlib where available, else a bitwise CRC here) and
// the pickle torch.save writes for a state_dict, with hooks to bend any field.

/** Little-endian u64 length + header text + data. `headerText` is used as is (may be invalid). */
export function safetensorsBytes(headerText, data) {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/**
 * A safetensors file of float32 tensors (Map name -> { shape, data: Float32Array }), in the
 * given order; `entry(e, name)` may rewrite each header entry; `extra` is header text put first.
 * @param {Map<string, { shape: readonly number[], data: Float32Array }>} tensors
 * @param {{ order?: string[], entry?: (e: any, name: string) => any, extra?: string }} [options]
 */
export function writeSafetensors(tensors, { order, entry = (e) => e, extra = "" } = {}) {
  const names = order ?? [...tensors.keys()];
  const parts = [];
  let offset = 0;
  const entries = [];
  for (const name of names) {
    const t = tensors.get(name);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const e = entry({ dtype: "F32", shape: t.shape, data_offsets: [offset, offset + bytes.length] }, name);
    entries.push(`${JSON.stringify(name)}:${JSON.stringify(e)}`);
    parts.push(bytes);
    offset += bytes.length;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return safetensorsBytes(`{${extra}${entries.join(",")}}`, data);
}

// ---- ZIP (stored members, as torch.save writes them) ----

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** Plain table CRC-32 (a second implementation, not the library's). */
export function crc32(data) {
  let crc = -1;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** A ZIP of stored members [{ name, data, crc? }] (crc defaults to the true one). */
export function writeZip(members) {
  const enc = new TextEncoder();
  const chunks = [],
    central = [];
  let offset = 0;
  for (const m of members) {
    const name = enc.encode(m.name);
    const crc = m.crc ?? crc32(m.data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, m.data.length, true);
    local.setUint32(22, m.data.length, true);
    local.setUint16(26, name.length, true);
    chunks.push(new Uint8Array(local.buffer), name, m.data);
    const c = new DataView(new ArrayBuffer(46));
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, m.data.length, true);
    c.setUint32(24, m.data.length, true);
    c.setUint16(28, name.length, true);
    c.setUint32(42, offset, true);
    central.push(new Uint8Array(c.buffer), name);
    offset += 30 + name.length + m.data.length;
  }
  const dirSize = central.reduce((n, c) => n + c.length, 0);
  const eocd = new DataView(new ArrayBuffer(22));
  eocd.setUint32(0, 0x06054b50, true);
  eocd.setUint16(8, members.length, true);
  eocd.setUint16(10, members.length, true);
  eocd.setUint32(12, dirSize, true);
  eocd.setUint32(16, offset, true);
  return concat([...chunks, ...central, new Uint8Array(eocd.buffer)]);
}

export function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- pickle (protocol 2 opcodes, the subset torch.save uses) ----

/** Pickle opcode builders, each returning bytes. */
export const P = {
  proto: () => Uint8Array.of(0x80, 2),
  global: (module, name) => new TextEncoder().encode(`c${module}\n${name}\n`),
  mark: () => Uint8Array.of(0x28),
  tuple: () => Uint8Array.of(0x74),
  emptyTuple: () => Uint8Array.of(0x29),
  emptyList: () => Uint8Array.of(0x5d),
  emptyDict: () => Uint8Array.of(0x7d),
  append: () => Uint8Array.of(0x61),
  appends: () => Uint8Array.of(0x65),
  setitems: () => Uint8Array.of(0x75),
  reduce: () => Uint8Array.of(0x52),
  persid: () => Uint8Array.of(0x51),
  binput: (i) => Uint8Array.of(0x72, i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, (i >>> 24) & 0xff),
  binget: (i) => Uint8Array.of(0x6a, i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, (i >>> 24) & 0xff),
  newfalse: () => Uint8Array.of(0x89),
  stop: () => Uint8Array.of(0x2e),
  int: (v) => {
    const b = new Uint8Array(5);
    b[0] = 0x4a;
    new DataView(b.buffer).setInt32(1, v, true);
    return b;
  },
  str: (s) => {
    const t = new TextEncoder().encode(s);
    const b = new Uint8Array(5 + t.length);
    b[0] = 0x58;
    new DataView(b.buffer).setUint32(1, t.length, true);
    b.set(t, 5);
    return b;
  },
};

const intTuple = (values) => concat([P.mark(), ...values.map(P.int), P.tuple()]);

/**
 * data.pkl of a torch.save'd state_dict: OrderedDict of name -> _rebuild_tensor_v2(storage,
 * offset, size, stride, False, OrderedDict()). `records` is [{ name, key, numel, offset,
 * size, stride }]; fields may hold any value a hostile file would.
 */
export function statePickle(records) {
  const parts = [P.proto(), P.global("collections", "OrderedDict"), P.emptyTuple(), P.reduce(), P.mark()];
  for (const r of records) {
    parts.push(P.str(r.name), P.global("torch._utils", "_rebuild_tensor_v2"), P.mark());
    parts.push(
      r.persistentId ??
        concat([P.mark(), P.str("storage"), P.global("torch", "FloatStorage"), P.str(r.key), P.str("cpu"), P.int(r.numel), P.tuple()]),
    );
    parts.push(P.persid(), P.int(r.offset), intTuple(r.size), intTuple(r.stride), P.newfalse());
    parts.push(P.global("collections", "OrderedDict"), P.emptyTuple(), P.reduce(), P.tuple(), P.reduce());
  }
  parts.push(P.setitems(), P.stop());
  return concat(parts);
}

/** C-order strides of a shape. */
export function contiguousStrides(shape) {
  const s = new Array(shape.length);
  for (let i = shape.length - 1, n = 1; i >= 0; i--) {
    s[i] = n;
    n *= shape[i];
  }
  return s;
}

/**
 * A torch.save ZIP of float32 tensors (Map name -> { shape, data }): one storage per tensor.
 * `bend(records, storages)` may alter the records and storages before writing; `pickle`
 * replaces data.pkl entirely.
 */
/**
 * @param {Map<string, { shape: readonly number[], data: Float32Array }>} tensors
 * @param {{ bend?: (records: any[], storages: Map<string, Uint8Array>) => void, pickle?: Uint8Array }} [options]
 */
export function writePth(tensors, { bend = () => {}, pickle } = {}) {
  const records = [],
    storages = new Map();
  let key = 0;
  for (const [name, t] of tensors) {
    const k = String(key++);
    records.push({ name, key: k, numel: t.data.length, offset: 0, size: [...t.shape], stride: contiguousStrides(t.shape) });
    storages.set(k, new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)));
  }
  bend(records, storages);
  const members = [
    { name: "archive/data.pkl", data: pickle ?? statePickle(records) },
    { name: "archive/version", data: new TextEncoder().encode("3\n") },
  ];
  for (const [k, data] of storages) members.push({ name: `archive/data/${k}`, data });
  return members;
}
