#!/usr/bin/env node
// TensorFlow.js with @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD) as a bench/lib/harness.mjs
// adapter: a torchvision DenseNet built with the tf.layers API from the SAME .safetensors
// state_dict that densenet-wasm loads (the ONNX files are not involved).
//
//   node bench/peers/tfjs_runner.mjs --safetensors m.safetensors --inputs x.npy --threads T [harness options]
//
// Layout: tfjs convolutions are NHWC, so the model takes the NCHW input as every other runtime
// does and its first layer is a Permute to NHWC (part of the timed run); conv weights are
// transposed OIHW -> HWIO, the classifier's (out, in) -> (in, out). BatchNorm runs in inference
// mode (moving statistics, torch's epsilon 1e-5). torch pads explicitly; tfjs 'same' pads the
// bottom/right first, so the 7x7/2 stem conv and the 3x3/2 max pool get an explicit
// ZeroPadding2D (zeros are exact for the pool: it follows a ReLU) and run 'valid'.
//
// Threads: tfjs-backend-wasm 4.22 hard-disables its threaded build under Node
// (WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE, tfjs issue #3830), so every run here is on
// one thread whatever is asked; setThreadsCount(T) is still called and getThreadsCount() is
// reported as threads_effective, so the suite labels the row with what really ran.
import { readFileSync } from "node:fs";
import { runAdapterScript } from "../lib/harness.mjs";

/** F32 tensors of a .safetensors file by name (integer tensors such as num_batches_tracked skipped). */
export function readSafetensors(path) {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.toString("utf8", 8, 8 + n));
  const base = 8 + n;
  const tensors = new Map();
  for (const [name, t] of Object.entries(header)) {
    if (name === "__metadata__" || t.dtype !== "F32") continue;
    const [a, b] = t.data_offsets;
    const data = new Float32Array((b - a) / 4);
    new Uint8Array(data.buffer).set(buf.subarray(base + a, base + b));
    tensors.set(name.replace(/^module\./, ""), { shape: t.shape, data });
  }
  return tensors;
}

/** The torchvision DenseNet configuration read off the state_dict's names and shapes. */
export function densenetConfig(w) {
  const get = (k) => {
    const t = w.get(k);
    if (!t) throw new Error(`state_dict has no ${k}: not a torchvision DenseNet`);
    return t;
  };
  const blocks = [];
  for (let b = 1; w.has(`features.denseblock${b}.denselayer1.conv1.weight`); b++) {
    let n = 0;
    while (w.has(`features.denseblock${b}.denselayer${n + 1}.conv1.weight`)) n++;
    blocks.push(n);
  }
  if (!blocks.length) throw new Error("state_dict has no features.denseblock1: not a torchvision DenseNet");
  return {
    stem: get("features.conv0.weight").shape[0],
    growth: get("features.denseblock1.denselayer1.conv2.weight").shape[0],
    bottleneck: get("features.denseblock1.denselayer1.conv1.weight").shape[0],
    blocks,
    classes: get("classifier.weight").shape[0],
    inChannels: get("features.conv0.weight").shape[1],
  };
}

/** Builds the DenseNet with tf.layers and sets its weights from the state_dict `w`. */
export function buildDenseNet(tf, w, height, width) {
  const cfg = densenetConfig(w);
  const assign = []; // [layer, [tf.Tensor, ...]]
  const tensor = (name, perm) => {
    const t = w.get(name);
    if (!t) throw new Error(`state_dict has no ${name}`);
    const x = tf.tensor(t.data, t.shape);
    if (!perm) return x;
    const y = tf.transpose(x, perm);
    x.dispose();
    return y;
  };
  const conv = (x, prefix, filters, kernelSize, strides = 1, padding = "valid") => {
    const layer = tf.layers.conv2d({ filters, kernelSize, strides, padding, useBias: false, name: prefix });
    assign.push([layer, [tensor(`${prefix}.weight`, [2, 3, 1, 0])]]); // OIHW -> HWIO
    return layer.apply(x);
  };
  const bnRelu = (x, prefix) => {
    const layer = tf.layers.batchNormalization({ axis: -1, epsilon: 1e-5, name: prefix });
    assign.push([layer, ["weight", "bias", "running_mean", "running_var"].map((k) => tensor(`${prefix}.${k}`))]);
    return tf.layers.activation({ activation: "relu" }).apply(layer.apply(x));
  };

  const input = tf.input({ shape: [cfg.inChannels, height, width] }); // NCHW, like the other runtimes
  let x = tf.layers.permute({ dims: [2, 3, 1] }).apply(input); // -> NHWC
  x = tf.layers.zeroPadding2d({ padding: 3 }).apply(x);
  x = conv(x, "features.conv0", cfg.stem, 7, 2);
  x = bnRelu(x, "features.norm0");
  x = tf.layers.zeroPadding2d({ padding: 1 }).apply(x);
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "valid" }).apply(x);
  cfg.blocks.forEach((layers, bi) => {
    const b = bi + 1;
    for (let l = 1; l <= layers; l++) {
      const p = `features.denseblock${b}.denselayer${l}`;
      let y = bnRelu(x, `${p}.norm1`);
      y = conv(y, `${p}.conv1`, cfg.bottleneck, 1);
      y = bnRelu(y, `${p}.norm2`);
      y = conv(y, `${p}.conv2`, cfg.growth, 3, 1, "same");
      x = tf.layers.concatenate({ axis: -1 }).apply([x, y]);
    }
    if (b < cfg.blocks.length) {
      const p = `features.transition${b}`;
      x = bnRelu(x, `${p}.norm`);
      x = conv(x, `${p}.conv`, w.get(`${p}.conv.weight`).shape[0], 1);
      x = tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: "valid" }).apply(x);
    }
  });
  x = bnRelu(x, "features.norm5");
  x = tf.layers.globalAveragePooling2d({}).apply(x);
  const fc = tf.layers.dense({ units: cfg.classes, name: "classifier" });
  assign.push([fc, [tensor("classifier.weight", [1, 0]), tensor("classifier.bias")]]);
  const output = fc.apply(x);
  const model = tf.model({ inputs: input, outputs: output });
  for (const [layer, ws] of assign) {
    layer.setWeights(ws);
    tf.dispose(ws);
  }
  return { model, cfg };
}

export async function load({ safetensors, threads }) {
  if (!safetensors) throw new Error("tfjs needs --safetensors");
  let tf, wasm;
  try {
    tf = await import("@tensorflow/tfjs");
    wasm = await import("@tensorflow/tfjs-backend-wasm");
  } catch (e) {
    throw new Error(`cannot import @tensorflow/tfjs / @tensorflow/tfjs-backend-wasm (run: npm ci --prefix bench/peers): ${e.message}`);
  }
  wasm.setThreadsCount(threads);
  if (!(await tf.setBackend("wasm"))) throw new Error('tf.setBackend("wasm") failed');
  await tf.ready();
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const threaded = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  const threadsEffective = wasm.getThreadsCount();

  const weights = readSafetensors(safetensors);
  let built = null;
  const modelFor = (h, wd) => {
    if (!built || built.h !== h || built.w !== wd) {
      built?.model.dispose();
      built = { h, w: wd, ...buildDenseNet(tf, weights, h, wd) };
    }
    return built.model;
  };
  return {
    info: {
      runtime: "tfjs",
      version: tf.version?.tfjs ?? "unknown",
      backend: `wasm backend, XNNPACK${simd ? " SIMD" : ""}`,
      backend_version: wasm.version_wasm,
      threads_effective: threadsEffective,
      threads_note: threaded ? null : "threads unsupported in Node",
    },
    async run({ data, dims }) {
      const model = modelFor(dims[2], dims[3]);
      const y = tf.tidy(() => model.predict(tf.tensor4d(data, dims)));
      const out = await y.data();
      const shape = y.shape;
      y.dispose();
      return { data: out, dims: shape };
    },
    release: () => built?.model.dispose(),
  };
}

runAdapterScript(import.meta.url, load, "tfjs_runner");
