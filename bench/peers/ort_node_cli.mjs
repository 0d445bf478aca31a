#!/usr/bin/env node
// onnxruntime-node doing what `densenet run` does, for bench/footprint.mjs's cold-start and
// peak-RSS comparison: load the model, read one .npy input, run once, write the .npy output.
//
//   node bench/peers/ort_node_cli.mjs --model m.onnx --input x.npy --output y.npy [--threads 1]
//
// Session options as bench/peers/ort_node_runner.mjs: CPU provider, intraOpNumThreads = T, one
// inter-op thread, sequential execution, all graph optimisations.
import { readNpy, writeNpy } from "../lib/npy.mjs";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= args.length) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  return args[i + 1];
};
const model = flag("model"),
  input = flag("input"),
  output = flag("output");
const threads = Number(flag("threads", "1"));

const ort = (await import("onnxruntime-node")).default;
const session = await ort.InferenceSession.create(model, {
  executionProviders: ["cpu"],
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
  logSeverityLevel: 3,
});
const x = readNpy(input);
const t0 = performance.now();
const out = (await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", x.data, x.shape) }))[session.outputNames[0]];
const ms = performance.now() - t0;
writeNpy(output, out.dims.map(Number), out.data);
await session.release();
process.stderr.write(`ran in ${ms.toFixed(1)} ms; wrote ${output}\n`);
