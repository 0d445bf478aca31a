// Reading the files a user names (--model, --input, library paths): only regular files, read
// through one handle that was checked to be one, with a size limit. A FIFO, a device such as
// /dev/zero, or a directory is refused before a byte is read, so nothing blocks or grows
// without bound. Missing permissions under Deno are named with the flag that grants them.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import { DenseNetError } from "../errors.js";

/** Largest file read whole (model files, images, tensors): 4 GiB, WebAssembly's memory limit. */
export const MAX_FILE_BYTES = 2 ** 32;

/**
 * The bytes of the regular file at `path`; `what` names it in errors ("model file",
 * "input"). Anything else — missing, a directory, a FIFO, a device, too large — is a
 * one-line DenseNetError. With `bound`, only the first `headBytes` are read at first, and
 * then no more than `total(head)` bytes in all: the format's own header says how much to read.
 */
export async function readRegularFile(
  path: string,
  what: string,
  maxBytes = MAX_FILE_BYTES,
  bound?: { readonly headBytes: number; readonly total: (head: Uint8Array) => number },
): Promise<Uint8Array> {
  const fail = (reason: string) => new DenseNetError(`cannot read ${what} '${path}': ${reason}`);
  try {
    // stat first: opening a FIFO for reading would block until a writer appears.
    const info = await stat(path);
    if (!info.isFile()) throw fail(`not a regular file (${kindOf(info)})`);
    // O_NONBLOCK: should the path have become a FIFO since, open returns at once.
    const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    try {
      const checked = await handle.stat();
      if (!checked.isFile()) throw fail(`not a regular file (${kindOf(checked)})`);
      let size = checked.size;
      if (bound) {
        const head = await readAt(handle, new Uint8Array(Math.min(size, bound.headBytes)));
        size = Math.min(size, bound.total(head));
      }
      if (size > maxBytes) throw fail(`${size} bytes, over the limit of ${maxBytes}`);
      return await readAt(handle, new Uint8Array(size));
    } finally {
      await handle.close();
    }
  } catch (e) {
    if (e instanceof DenseNetError) throw e;
    throw fail(describeFsError(e));
  }
}

/**
 * A regular file opened for positional reads (readSync at offsets), with its size: for a
 * model file streamed one tensor at a time. The same checks as readRegularFile, before any
 * read; the caller closes `fd` (closeSync).
 */
export function openRegularFileSync(path: string, what: string, maxBytes = MAX_FILE_BYTES): { fd: number; size: number } {
  const fail = (reason: string) => new DenseNetError(`cannot read ${what} '${path}': ${reason}`);
  let fd = -1;
  try {
    const info = statSync(path);
    if (!info.isFile()) throw fail(`not a regular file (${kindOf(info)})`);
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const checked = fstatSync(fd);
    if (!checked.isFile()) throw fail(`not a regular file (${kindOf(checked)})`);
    if (checked.size > maxBytes) throw fail(`${checked.size} bytes, over the limit of ${maxBytes}`);
    return { fd, size: checked.size };
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    if (e instanceof DenseNetError) throw e;
    throw fail(describeFsError(e));
  }
}

/**
 * Fills `into` from byte `position` of the open file; false if the file ended first (it
 * shrank since it was checked). I/O errors are one-line DenseNetErrors naming `what`.
 */
export function readFullySync(fd: number, into: Uint8Array, position: number, what: string): boolean {
  let at = 0;
  try {
    while (at < into.length) {
      const n = readSync(fd, into, at, into.length - at, position + at);
      if (n === 0) return false;
      at += n;
    }
  } catch (e) {
    throw new DenseNetError(`cannot read ${what}: ${describeFsError(e)}`);
  }
  return true;
}

/** Fills `bytes` from the start of the file (fewer if the file is shorter). */
async function readAt(handle: import("node:fs/promises").FileHandle, bytes: Uint8Array): Promise<Uint8Array> {
  let at = 0;
  while (at < bytes.length) {
    const { bytesRead } = await handle.read(bytes, at, bytes.length - at, at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return at === bytes.length ? bytes : bytes.subarray(0, at);
}

function kindOf(info: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): string {
  if (info.isDirectory()) return "a directory";
  if (info.isFIFO()) return "a FIFO";
  if (info.isCharacterDevice() || info.isBlockDevice()) return "a device";
  if (info.isSocket()) return "a socket";
  return "not a file";
}

/** A file-system error in a word: its code (ENOENT, EACCES, EISDIR, ENOSPC, ...), or Deno's missing permission. */
export function describeFsError(e: unknown): string {
  const denied = denoPermission(e);
  if (denied) return denied;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code === "string") return code;
  return e instanceof Error ? e.message : String(e);
}

/**
 * For Deno's permission errors (Deno.errors.NotCapable, PermissionDenied), a message naming
 * the flag to run with; null for any other error.
 */
export function denoPermission(e: unknown): string | null {
  const name = (e as Error | null)?.name;
  if (name !== "NotCapable" && name !== "PermissionDenied") return null;
  const message = String((e as Error).message ?? "");
  const flag = /--allow-[a-z-]+/.exec(message)?.[0];
  const first = message.split("\n")[0].replace(/,? run again with the --allow-[a-z-]+ flag/, "");
  return `Deno denied access (${first}): run deno with ${flag ?? "the --allow-* flag it names"}`;
}
