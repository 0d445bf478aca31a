// Pieces every CLI command shares: strict flag values, model sessions, reading inputs
// (.npy or an image), writing outputs. All failures are one-line DenseNetErrors.
import { writeFile } from "node:fs/promises";
import { DEFAULT_MODEL_PATH } from "../default_model.js";
import { DenseNetError } from "../errors.js";
import { describeFsError, readRegularFile } from "../io/file.js";
import { npyReadBound, parseNpyAny } from "../io/npy.js";
import { MAX_THREADS, Session, defaultThreads } from "../session.js";
import type { AnyTensor } from "../tensor.js";

export { MAX_THREADS };

/** A flag's decimal integer value in [min, max] ("1e1", "0x2", " 2 " are refused), or `fallback` when absent. */
export function integerFlag(text: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = /^-?[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new DenseNetError(`--${name} must be an integer from ${min} to ${max}, got '${text.slice(0, 40)}'`);
  }
  return value;
}

/** The values node:util's parseArgs gives for an options table: string[] for `multiple`, boolean for booleans, else string. */
export type FlagValues<O extends Readonly<Record<string, { readonly type: "string" | "boolean"; readonly multiple?: boolean }>>> = {
  [K in keyof O]?: O[K] extends { multiple: true } ? string[] : O[K]["type"] extends "boolean" ? boolean : string;
};

/** integerFlag on flag `name` of parsed flags. */
export function integerOf<F extends Readonly<Record<string, unknown>>>(
  flags: F,
  name: keyof F & string,
  fallback: number,
  min: number,
  max: number,
): number {
  return integerFlag(flags[name] as string | undefined, name, fallback, min, max);
}

/** A comma-separated list of finite numbers ("0.485,0.456,0.406"). */
export function numberListFlag(text: string | undefined, name: string): number[] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(",").map((s) => (/^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(s) ? Number(s) : NaN));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) {
    throw new DenseNetError(`--${name} must be comma-separated numbers, got '${text.slice(0, 60)}'`);
  }
  return values;
}

/** Opens --model (the embedded default model where none is given) on --threads. */
export function openModel(model: string | undefined, threads: string | undefined): Promise<Session> {
  return Session.create(model ?? DEFAULT_MODEL_PATH, { threads: integerFlag(threads, "threads", defaultThreads(), 1, MAX_THREADS) });
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** A .npy tensor as it is, or an image decoded and preprocessed as the session's model says. */
export async function readTensorOrImage(path: string, session: Session): Promise<AnyTensor> {
  // A .npy is read no further than its header says the array goes (a huge file is not read whole).
  const isNpy = (head: Uint8Array) => NPY_MAGIC.every((b, i) => head[i] === b);
  const npy = npyReadBound(path);
  const bytes = await readRegularFile(path, "input", undefined, {
    headBytes: npy.headBytes,
    total: (head) => (isNpy(head) ? npy.total(head) : Infinity),
  });
  if (isNpy(bytes)) return parseNpyAny(bytes, path);
  // The image decoders are loaded only when an input is an image.
  const { imageTensor } = await import("../classify.js");
  return imageTensor(session, bytes, path);
}

/** Writes an output file; a bad path (missing folder, a directory, no permission, a full disk) is a one-line error. */
export async function writeOutputFile(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFile(path, bytes);
  } catch (e) {
    throw new DenseNetError(`cannot write output '${path}': ${describeFsError(e)}`);
  }
}
