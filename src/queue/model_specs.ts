import { basename } from "node:path";
import { DenseNetError } from "../errors.js";

/** One model a worker serves: jobs name it by `name`; `source` is what Session.create loads. */
export interface ModelSpec {
  readonly name: string;
  readonly source: string;
}

/** Model names travel in job data and in HTTP paths (/v2/models/{name}/infer): keep them URL-safe. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The file stem: "dir/chest.v2.safetensors" -> "chest.v2"; an architecture name stays itself. */
function fileStem(path: string): string {
  const base = basename(path);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(0, dot) : base;
}

/**
 * Parses repeated `--model [NAME=]PATH` values. NAME is taken only when the text before the
 * first '=' is a valid model name (so a path such as "./a=b.onnx" stays a path); otherwise the
 * name is the file stem. With no value, `fallback` (the embedded default model) is served.
 */
export function parseModelSpecs(values: readonly string[], fallback: ModelSpec): ModelSpec[] {
  if (values.length === 0) return [fallback];
  const specs = values.map((value): ModelSpec => {
    const eq = value.indexOf("=");
    const named = eq > 0 && MODEL_NAME.test(value.slice(0, eq));
    const source = named ? value.slice(eq + 1) : value;
    if (source === "") throw new DenseNetError(`--model '${value}' names no file`);
    const name = named ? value.slice(0, eq) : fileStem(source);
    if (!MODEL_NAME.test(name)) {
      throw new DenseNetError(
        `--model '${value}': model name '${name}' must be 1 to 128 letters, digits, '.', '_' or '-' (give one as NAME=PATH)`,
      );
    }
    return { name, source };
  });
  const seen = new Set<string>();
  for (const { name } of specs) {
    if (seen.has(name)) throw new DenseNetError(`--model: two models are named '${name}' (give one another name as NAME=PATH)`);
    seen.add(name);
  }
  return specs;
}
