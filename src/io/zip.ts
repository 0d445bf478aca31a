import { check } from "../errors.js";

/** One stored (uncompressed) member of a ZIP archive. */
export interface ZipEntry {
  readonly name: string;
  readonly data: Uint8Array;
}

const EOCD_SIGNATURE = 0x06054b50, CENTRAL_SIGNATURE = 0x02014b50, LOCAL_SIGNATURE = 0x04034b50;

/** Whether the bytes start like a ZIP archive (a local file header). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/**
 * Reads the members of a ZIP archive through its central directory, as torch.save writes
 * them: stored, not compressed (a compressed member is an error naming it). Every offset and
 * size is checked against the file; ZIP64 archives (over 4 GiB) are refused.
 */
export function readZip(bytes: Uint8Array, what: string): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === EOCD_SIGNATURE) { eocd = i; break; }
  }
  check(eocd >= 0, `${what}: not a complete ZIP archive (no end-of-central-directory record; truncated?)`);
  const count = view.getUint16(eocd + 10, true);
  const dirSize = view.getUint32(eocd + 12, true), dirOffset = view.getUint32(eocd + 16, true);
  check(count !== 0xffff && dirOffset !== 0xffffffff, `${what}: ZIP64 archives are not supported`);
  check(dirOffset + dirSize <= eocd, `${what}: ZIP central directory lies outside the file`);
  const entries = new Map<string, ZipEntry>();
  let at = dirOffset;
  for (let i = 0; i < count; i++) {
    check(at + 46 <= eocd && view.getUint32(at, true) === CENTRAL_SIGNATURE, `${what}: corrupt ZIP central directory (entry ${i})`);
    const method = view.getUint16(at + 10, true);
    const size = view.getUint32(at + 20, true), stored = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true), extraLength = view.getUint16(at + 30, true), commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    check(at + 46 + nameLength <= eocd, `${what}: corrupt ZIP central directory (entry ${i})`);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    check(method === 0 && size === stored, `${what}: ZIP member '${name}' is compressed; only stored members (as torch.save writes) are supported`);
    check(local + 30 <= bytes.length && view.getUint32(local, true) === LOCAL_SIGNATURE, `${what}: corrupt ZIP local header for '${name}'`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    check(start + size <= bytes.length, `${what}: ZIP member '${name}' is truncated`);
    entries.set(name, { name, data: bytes.subarray(start, start + size) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
