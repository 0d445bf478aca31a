import { constants } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import { DenseNetError } from "../errors.js";

/** Largest file the runtime reads whole (model files and images): 4 GiB, WebAssembly's memory limit. */
export const MAX_FILE_BYTES = 2 ** 32;

/**
 * Reads a whole regular file. A FIFO, device, directory or socket is refused before any read
 * (/dev/zero or a pipe would never end), and so is a file over `maxBytes`; errors are one line
 * naming `what` and the path.
 */
export async function readRegularFile(path: string, what: string, maxBytes = MAX_FILE_BYTES): Promise<Uint8Array> {
  let handle: FileHandle | undefined;
  try {
    // stat before open: opening a FIFO with no writer would block. O_NONBLOCK covers a path
    // swapped for one in between (reads of regular files ignore it).
    if (!(await stat(path)).isFile()) throw new DenseNetError(`${what} '${path}' is not a regular file`);
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    if (e instanceof DenseNetError) throw e;
    throw new DenseNetError(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new DenseNetError(`${what} '${path}' is not a regular file`);
    if (stat.size > maxBytes) throw new DenseNetError(`${what} '${path}' has ${stat.size} bytes, over the limit of ${maxBytes}`);
    const bytes = new Uint8Array(stat.size);
    let read = 0;
    while (read < bytes.length) {
      const { bytesRead } = await handle.read(bytes, read, bytes.length - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return read === bytes.length ? bytes : bytes.subarray(0, read);
  } catch (e) {
    if (e instanceof DenseNetError) throw e;
    throw new DenseNetError(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  } finally {
    await handle.close();
  }
}
