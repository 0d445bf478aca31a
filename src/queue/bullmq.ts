// BullMQ and its Redis client are optional peer dependencies, loaded only by `densenet
// worker`: other commands and library users never load (or need to install) them.
import type * as BullMQ from "bullmq";
import { DenseNetError } from "../errors.js";

export type BullMQModule = typeof BullMQ;

const INSTALL = "densenet worker needs the optional packages 'bullmq' and 'ioredis': npm install bullmq@6 ioredis@5";

function missing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

/**
 * Loads BullMQ. Its package has no "exports" map, so `import("bullmq")` resolves its CommonJS
 * build (BullMQ 6's ESM build does not load under Node's resolver); ioredis is loaded first
 * so a missing driver is reported here, not on the first Redis connection.
 */
export async function loadBullMQ(): Promise<BullMQModule> {
  try {
    await import("ioredis");
    return await import("bullmq");
  } catch (e) {
    if (missing(e)) throw new DenseNetError(INSTALL);
    throw e;
  }
}
