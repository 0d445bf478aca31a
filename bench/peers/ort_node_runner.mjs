#!/usr/bin/env node
// onnxruntime-node (native CPU execution provider) as a bench/lib/harness.mjs adapter.
//
//   node bench/peers/ort_node_runner.mjs --onnx m.onnx --inputs x.npy --threads T [harness options]
//
// Installed with ONNXRUNTIME_NODE_INSTALL=skip (its postinstall would download CUDA libraries;
// the CPU binaries are inside the npm package). intraOpNumThreads = T, one inter-op thread,
// sequential execution, all graph optimisations. Its thread pool spin-waits between ops, so
// cpu_util over-counts useful work; the 1-vs-T timing is the proof the threads run.
import { runAdapterScript } from "../lib/harness.mjs";
import { ortModel } from "../lib/ort.mjs";

export async function load({ onnx, threads }) {
  if (!onnx) throw new Error("onnxruntime-node needs --onnx");
  let ort;
  try {
    ort = (await import("onnxruntime-node")).default ?? (await import("onnxruntime-node"));
  } catch (e) {
    throw new Error(`cannot import onnxruntime-node (install: ONNXRUNTIME_NODE_INSTALL=skip npm ci --prefix bench/peers): ${e.message}`);
  }
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    logSeverityLevel: 3,
  });
  return ortModel(ort, session, {
    runtime: "onnxruntime-node",
    version: ort.env.versions?.node ?? "unknown",
    backend: "native CPU",
    threads_effective: threads,
  });
}

runAdapterScript(import.meta.url, load, "ort_node_runner");
