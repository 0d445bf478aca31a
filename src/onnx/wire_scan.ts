// A count of a ModelProto's graph nodes and initializers read straight from the protobuf wire
// format, before anything is decoded: decoding builds an object per node (a million nodes
// take about 600 MB), so a graph over the size limit is refused from a scan that allocates
// nothing. Malformed bytes give null and are left to the decoder's own error.

/** Nodes and initializers of the graph (field 7) of a ModelProto, or null if the bytes do not scan. */
export function countGraphEntries(bytes: Uint8Array): { nodes: number; initializers: number } | null {
  const counts = { nodes: 0, initializers: 0 };
  const ok = scanFields(bytes, 0, bytes.length, (field, start, end) => {
    if (field !== 7 || start < 0) return true; // GraphProto
    return scanFields(bytes, start, end, (f, s) => {
      if (s >= 0 && f === 1) counts.nodes++;
      if (s >= 0 && f === 5) counts.initializers++;
      return true;
    });
  });
  return ok ? counts : null;
}

/**
 * Walks the fields of the message in bytes[from, to), calling visit(field, start, end) for
 * each (start = -1 for a field that is not length-delimited). False if the bytes are malformed.
 */
function scanFields(bytes: Uint8Array, from: number, to: number, visit: (field: number, start: number, end: number) => boolean): boolean {
  let at = from;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (at >= to) return -1;
      const b = bytes[at++];
      if (shift < 53) value += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return value;
    }
    return -1;
  };
  while (at < to) {
    const key = varint();
    if (key < 0) return false;
    const field = Math.floor(key / 8),
      wire = key % 8;
    if (wire === 0) {
      if (varint() < 0) return false;
      if (!visit(field, -1, -1)) return false;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      if (at > to) return false;
      if (!visit(field, -1, -1)) return false;
    } else if (wire === 2) {
      const length = varint();
      if (length < 0 || at + length > to) return false;
      if (!visit(field, at, at + length)) return false;
      at += length;
    } else {
      return false; // groups (deprecated) or an invalid wire type
    }
  }
  return true;
}
