// `densenet classify`, `densenet preprocess` and `densenet embed`: the image commands.
import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { type ClassifyResult, checkLabelCount, classify, labelsOf, loadImage, preprocessingOf } from "../classify.js";
import { DEFAULT_MODEL_NAME, DEFAULT_SAMPLES_DIR } from "../default_model.js";
import { DenseNetError } from "../errors.js";
import { preprocess } from "../image/index.js";
import { readRegularFile } from "../io/file.js";
import { formatNpy } from "../io/npy.js";
import { checkPreprocessing, imagenetPreprocessing } from "../model/metadata.js";
import type { Session } from "../session.js";
import { integerFlag, numberListFlag, openModel, readTensorOrImage, writeOutputFile } from "./common.js";

export const IMAGE_USAGE = `  densenet classify [--model M] [--top K] [--labels FILE] [--threads N] [--json] [IMAGE...]
  densenet preprocess --input IMAGE --output x.npy [--model M] [--resize 256] [--crop 224]
                 [--mean a,b,c] [--std a,b,c] [--mode RGB|L]
  densenet embed --model M --input IMAGE|x.npy --output f.npy [--threads N]`;

function parse(argv: string[], options: NonNullable<ParseArgsConfig["options"]>, positionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new DenseNetError(`${(e as Error).message.split("\n")[0]} (see densenet --help)`);
  }
}

/** Class names from a file: a JSON array of strings, or one name per line. */
async function readLabels(path: string): Promise<string[]> {
  const text = new TextDecoder().decode(await readRegularFile(path, "labels file", 64 * 2 ** 20));
  if (text.trimStart().startsWith("[")) {
    try {
      return JSON.parse(text) as string[];
    } catch {
      throw new DenseNetError(`labels file '${path}' is not a valid JSON array`);
    }
  }
  return text.split(/\r?\n/).filter((line, i, all) => line.length > 0 || i < all.length - 1);
}

/** The bundled samples, named `<index>-<label slug>.png`, in name order. */
async function bundledSamples(): Promise<string[]> {
  return (await readdir(DEFAULT_SAMPLES_DIR))
    .filter((f) => f.endsWith(".png"))
    .sort()
    .map((f) => join(DEFAULT_SAMPLES_DIR, f));
}

/** A sample's true class from its file name, matched to the model's labels. */
function truthOf(file: string, labels: readonly string[] | null): string | null {
  const slug = /\d+-([^/\\]+)\.png$/.exec(file)?.[1];
  const key = (label: string) => label.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  return labels?.find((l) => key(l) === slug) ?? null;
}

export async function classifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      model: { type: "string" },
      top: { type: "string" },
      labels: { type: "string" },
      threads: { type: "string" },
      json: { type: "boolean" },
    },
    true,
  );
  const samples = positionals.length === 0;
  if (samples && values.model) throw new DenseNetError("give the images to classify (the bundled samples are for the default model)");
  const files = samples ? await bundledSamples() : positionals;
  const top = integerFlag(values.top as string | undefined, "top", 5, 1, 100000);
  const session = await openModel(values.model as string | undefined, values.threads as string | undefined);
  let results: ClassifyResult[];
  let labels: readonly string[] | null;
  try {
    labels = values.labels ? checkLabelCount(await readLabels(values.labels as string), session) : await labelsOf(session);
    results = await classify(session, files, { top, labels: labels ?? undefined });
  } finally {
    await session.release();
  }
  const model = values.model === undefined ? DEFAULT_MODEL_NAME : session.info.name;
  if (values.json) {
    console.log(JSON.stringify({ model, results: results.map((r, i) => ({ file: files[i], ...r })) }));
  } else {
    const lines = [`${model}: top ${top} of ${files.length} image(s)${samples ? " (bundled Fashion-MNIST test samples)" : ""}`];
    results.forEach((r, i) => {
      if ("error" in r) {
        lines.push(`${files[i]}: error: ${r.error}`);
        return;
      }
      const truth = samples ? truthOf(files[i], labels) : null;
      lines.push(
        `${samples ? basename(files[i]) : files[i]}${truth ? `  (truth: ${truth}${r.top[0].label === truth ? ", correct" : ", WRONG"})` : ""}`,
      );
      for (const c of r.top)
        lines.push(
          `  ${(c.probability * 100).toFixed(2).padStart(6)} %  ${c.label ?? `class ${c.index}`}${c.label ? ` (${c.index})` : ""}`,
        );
    });
    if (samples) {
      const correct = results.filter((r, i) => "top" in r && r.top[0].label === truthOf(files[i], labels)).length;
      lines.push(`${correct} of ${files.length} correct`);
    }
    console.log(lines.join("\n"));
  }
  return results.some((r) => "error" in r) ? 1 : 0;
}

export async function preprocessCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    model: { type: "string" },
    input: { type: "string" },
    output: { type: "string" },
    resize: { type: "string" },
    crop: { type: "string" },
    mean: { type: "string" },
    std: { type: "string" },
    mode: { type: "string" },
  });
  if (!values.input || !values.output) throw new DenseNetError("--input IMAGE and --output x.npy are required (see densenet --help)");
  let base = imagenetPreprocessing(values.mode === "L" ? "L" : "RGB");
  if (values.model) {
    const session: Session = await openModel(values.model as string, "1");
    base = preprocessingOf(session);
    await session.release();
  }
  const mode = (values.mode as string | undefined) ?? base.mode;
  // Mean and std follow the mode: the model's for its own mode, else ImageNet's.
  const defaults = mode === base.mode ? base : imagenetPreprocessing(mode === "L" ? "L" : "RGB");
  const spec = checkPreprocessing(
    {
      resize: integerFlag(values.resize as string | undefined, "resize", base.resize, 1, 8192),
      crop: values.crop === undefined ? base.crop : integerFlag(values.crop as string, "crop", 0, 1, 8192),
      mean: numberListFlag(values.mean as string | undefined, "mean") ?? defaults.mean,
      std: numberListFlag(values.std as string | undefined, "std") ?? defaults.std,
      mode,
    },
    "preprocessing",
  );
  const tensor = preprocess([await loadImage(values.input as string)], spec);
  await writeOutputFile(values.output as string, formatNpy(tensor));
  console.error(`wrote ${values.output} [${tensor.dims.join(", ")}]`);
  return 0;
}

export async function embedCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    model: { type: "string" },
    input: { type: "string" },
    output: { type: "string" },
    threads: { type: "string" },
  });
  if (!values.input || !values.output) throw new DenseNetError("--input IMAGE|x.npy and --output f.npy are required (see densenet --help)");
  const session = await openModel(values.model as string | undefined, values.threads as string | undefined);
  try {
    const input = await readTensorOrImage(values.input as string, session);
    if (!(input.data instanceof Float32Array)) throw new DenseNetError(`input '${values.input}' is int64; embed needs float32 images`);
    const features = await session.features({ data: input.data, dims: input.dims });
    await writeOutputFile(values.output as string, formatNpy(features));
    console.error(`wrote ${values.output} [${features.dims.join(", ")}]`);
  } finally {
    await session.release();
  }
  return 0;
}
