#!/usr/bin/env node
// onnxruntime-node (native CPU execution provider) as a bench/lib/harness.mjs adapter.
//
//   node bench/peers/ort_node_runner.mjs --onnx m.onnx --inputs x.npy --threads T [harness options]
//
// Installed with ONNXRUNTIME_NODE_INSTALL=skip (its postinstall would download CUDA libraries;
// the CPU binaries are inside the npm package). intraOpNumThreads = T, one inter-op thread,
// sequential execution, all graph optimisations. Its thread pool spin-waits between ops, so
// cpu_util over-counts useful work; the 1-vs-T timing is the proof the threads run.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export async function load({ onnx, threads }) {
  if (!onnx) throw new Error('onnxruntime-node needs --onnx');
  let ort;
  try {
    ort = (await import('onnxruntime-node')).default ?? (await import('onnxruntime-node'));
  } catch (e) {
    throw new Error(`cannot import onnxruntime-node (install: ONNXRUNTIME_NODE_INSTALL=skip npm ci --prefix bench/peers): ${e.message}`);
  }
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const [inName] = session.inputNames;
  const [outName] = session.outputNames;
  return {
    info: {
      runtime: 'onnxruntime-node',
      version: ort.env.versions?.node ?? 'unknown',
      backend: 'native CPU',
      threads_effective: threads,
    },
    async run({ data, dims }) {
      const out = (await session.run({ [inName]: new ort.Tensor('float32', data, dims) }))[outName];
      return { data: out.data, dims: out.dims.map(Number) };
    },
    release: () => session.release(),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const { runHarness } = await import('../lib/harness.mjs');
  runHarness({ load }).then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`[ort_node_runner] ${e.stack || e.message || e}\n`);
      process.exit(1);
    },
  );
}
