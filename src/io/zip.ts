import { check } from "../errors.js";

/** One stored (uncompressed) member of a ZIP archive. */
export interface ZipEntry {
  readonly name: string;
  readonly data: Uint8Array;
}

const EOCD_SIGNATURE = 0x06054b50,
  CENTRAL_SIGNATURE = 0x02014b50,
  LOCAL_SIGNATURE = 0x04034b50;

/** Whether the bytes start like a ZIP archive (a local file header). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/**
 * Reads the members of a ZIP archive through its central directory, as torch.save writes
 * them: stored, not compressed (a compressed member is an error naming it). Every offset and
 * size is checked against the file, every member's CRC-32 against its data (a corrupted
 * weight with a stale checksum is refused, not loaded), a name given twice is refused;
 * ZIP64 archives (over 4 GiB) are refused.
 */
export function readZip(bytes: Uint8Array, what: string): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  check(eocd >= 0, `${what}: not a complete ZIP archive (no end-of-central-directory record; truncated?)`);
  const count = view.getUint16(eocd + 10, true);
  const dirSize = view.getUint32(eocd + 12, true),
    dirOffset = view.getUint32(eocd + 16, true);
  check(count !== 0xffff && dirOffset !== 0xffffffff, `${what}: ZIP64 archives are not supported`);
  check(dirOffset + dirSize <= eocd, `${what}: ZIP central directory lies outside the file`);
  const entries = new Map<string, ZipEntry>();
  let at = dirOffset;
  for (let i = 0; i < count; i++) {
    check(at + 46 <= eocd && view.getUint32(at, true) === CENTRAL_SIGNATURE, `${what}: corrupt ZIP central directory (entry ${i})`);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const size = view.getUint32(at + 20, true),
      stored = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true),
      extraLength = view.getUint16(at + 30, true),
      commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    check(at + 46 + nameLength <= eocd, `${what}: corrupt ZIP central directory (entry ${i})`);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    check(
      method === 0 && size === stored,
      `${what}: ZIP member '${name}' is compressed; only stored members (as torch.save writes) are supported`,
    );
    check(local + 30 <= bytes.length && view.getUint32(local, true) === LOCAL_SIGNATURE, `${what}: corrupt ZIP local header for '${name}'`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    check(start + size <= bytes.length, `${what}: ZIP member '${name}' is truncated`);
    check(!entries.has(name), () => `${what}: ZIP member '${name}' appears twice`);
    const data = bytes.subarray(start, start + size);
    check(crc32(data) === crc, `${what}: ZIP member '${name}' is corrupt (its CRC-32 does not match its data)`);
    entries.set(name, { name, data });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** CRC-32 (ISO-HDLC, as ZIP uses), slicing by 4 bytes. */
export function crc32(data: Uint8Array): number {
  const t = CRC_TABLES;
  let crc = 0xffffffff;
  let i = 0;
  for (const end = data.length - 3; i < end; i += 4) {
    crc ^= data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    crc = t[768 + (crc & 0xff)] ^ t[512 + ((crc >>> 8) & 0xff)] ^ t[256 + ((crc >>> 16) & 0xff)] ^ t[crc >>> 24];
  }
  for (; i < data.length; i++) crc = t[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const CRC_TABLES = (() => {
  const t = new Int32Array(1024);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) for (let s = 1; s < 4; s++) t[256 * s + n] = t[t[256 * (s - 1) + n] & 0xff] ^ (t[256 * (s - 1) + n] >>> 8);
  return t;
})();
