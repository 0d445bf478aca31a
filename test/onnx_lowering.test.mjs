// The lowering of ONNX graphs to the planned kernels, pattern by pattern: each small graph
// must run planned (or, where merging would change the result, on the interpreter) and agree
// with the op-by-op interpreter on the same model.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session } from "../dist/index.js";
import { readGraph } from "../dist/onnx/graph.js";
import { importOnnx } from "../dist/onnx/import.js";
import { compileProgram } from "../dist/onnx/interpreter.js";
import { decodeModel } from "../dist/onnx/proto.js";
import { assertWithin, randomArray } from "./helpers.mjs";
import { attr, model, node, valueInfo } from "./onnx_helpers.mjs";

let seed = 1;
/** A float32 initializer of N(0, scale^2) values. */
function weights(name, dims, scale = 0.3) {
  return {
    name,
    dims,
    dataType: 1,
    floatData: Array.from(
      randomArray(
        dims.reduce((a, b) => a * b, 1),
        seed++,
        scale,
      ),
    ),
  };
}
/** BatchNormalization parameters named <prefix>.{s,b,m,v} for c channels (variance > 0). */
function bnParams(prefix, c) {
  const v = weights(`${prefix}.v`, [c]);
  v.floatData = v.floatData.map((x) => 0.5 + Math.abs(x));
  return [weights(`${prefix}.s`, [c]), weights(`${prefix}.b`, [c]), weights(`${prefix}.m`, [c]), v];
}
const bn = (x, prefix, out) => node("BatchNormalization", [x, `${prefix}.s`, `${prefix}.b`, `${prefix}.m`, `${prefix}.v`], [out], prefix);
const int64s = (name, values) => ({ name, dims: [values.length], dataType: 7, int64Data: values });

/**
 * Runs `bytes` through a Session (expecting `execution` and, when planned, a lowered graph of
 * `ops` ops) and through the interpreter, and compares.
 */
async function agrees(bytes, dims, execution, ops) {
  const x = {
    data: randomArray(
      dims.reduce((a, b) => a * b, 1),
      99,
    ),
    dims,
  };
  const session = await Session.create(bytes);
  assert.is(session.info.execution, execution);
  if (ops !== undefined) {
    const lowered = importOnnx(bytes, "test");
    if (lowered.kind !== "planned") throw new Error(`expected a planned graph: ${lowered.notPlanned}`);
    assert.is(lowered.graph.ops.length, ops, "ops in the lowered graph");
  }
  const y = await session.run(x);
  await session.release();
  const program = compileProgram(readGraph(decodeModel(bytes, "test")));
  const ref = /** @type {import("../dist/index.js").Tensor} */ (Object.values(program.run({ [program.graph.inputs[0].name]: x }))[0]);
  assert.equal(y.dims, ref.dims, "output shape");
  assertWithin(y.data, ref.data, (i) => 1e-5 + 1e-5 * Math.abs(ref.data[i]), "planned vs interpreted");
}

const Lowering = suite("ONNX lowering to the planned graph");

Lowering("conv-BN-ReLU stem, explicit Pad merged into the max pool, global pool, Gemm with transB = 0", async () => {
  const bytes = model({
    nodes: [
      node("Conv", ["x", "w0", "b0"], ["c0"], "conv0", [
        attr.ints("kernel_shape", [7, 7]),
        attr.ints("strides", [2, 2]),
        attr.ints("pads", [3, 3, 3, 3]),
      ]),
      bn("c0", "bn0", "n0"),
      node("Relu", ["n0"], ["r0"], "relu0"),
      node("Pad", ["r0", "pads"], ["p0"], "pad0"),
      node("MaxPool", ["p0"], ["m0"], "pool0", [attr.ints("kernel_shape", [3, 3]), attr.ints("strides", [2, 2])]),
      node("GlobalAveragePool", ["m0"], ["g"], "gap"),
      node("Flatten", ["g"], ["f"], "flatten"),
      node("Gemm", ["f", "fcw", "fcb"], ["y"], "fc"),
    ],
    inputs: [valueInfo("x", ["N", 3, "H", "W"])],
    outputs: [valueInfo("y", ["N", 5])],
    initializers: [
      weights("w0", [8, 3, 7, 7]),
      weights("b0", [8]),
      ...bnParams("bn0", 8),
      int64s("pads", [0, 0, 1, 1, 0, 0, 1, 1]),
      weights("fcw", [8, 5]),
      weights("fcb", [1, 5]),
    ],
  });
  await agrees(bytes, [2, 3, 37, 30], "planned", 4);
});

Lowering("a Pad before an average pool merges as counted padding", async () => {
  const bytes = model({
    opset: 9,
    nodes: [
      node("Pad", ["x"], ["p"], "pad", [attr.ints("pads", [0, 0, 1, 2, 0, 0, 2, 1])]),
      node("AveragePool", ["p"], ["a"], "avg", [attr.ints("kernel_shape", [3, 3]), attr.ints("strides", [2, 2])]),
      node("GlobalMaxPool", ["a"], ["y"], "gmp"),
    ],
    inputs: [valueInfo("x", ["N", 4, 11, 9])],
    outputs: [valueInfo("y", ["N", 4, 1, 1])],
  });
  await agrees(bytes, [1, 4, 11, 9], "planned");
});

Lowering("a Pad before a max pool of possibly negative values stays exact on the interpreter", async () => {
  const bytes = model({
    nodes: [
      node("Pad", ["x", "pads"], ["p"], "pad"),
      node("MaxPool", ["p"], ["m"], "max", [attr.ints("kernel_shape", [3, 3]), attr.ints("strides", [2, 2])]),
      node("GlobalAveragePool", ["m"], ["y"], "gap"),
    ],
    inputs: [valueInfo("x", [1, 2, 9, 9])],
    outputs: [valueInfo("y", [1, 2, 1, 1])],
    initializers: [int64s("pads", [0, 0, 1, 1, 0, 0, 1, 1])],
  });
  await agrees(bytes, [1, 2, 9, 9], "interpreted");
});

Lowering("a transition (BN-ReLU, 1x1 conv with bias and folded BN, average pool) runs pool-first", async () => {
  const bytes = model({
    nodes: [
      bn("x", "norm", "n"),
      node("Relu", ["n"], ["r"], "relu"),
      node("Conv", ["r", "w", "b"], ["c"], "conv", [attr.ints("kernel_shape", [1, 1])]),
      bn("c", "post", "pc"),
      node("AveragePool", ["pc"], ["a"], "pool", [attr.ints("kernel_shape", [2, 2]), attr.ints("strides", [2, 2])]),
      node("GlobalAveragePool", ["a"], ["g"], "gap"),
      node("Reshape", ["g", "shape"], ["f"], "reshape"),
      node("MatMul", ["f", "fcw"], ["mm"], "fc"),
      node("Add", ["mm", "fcb"], ["y"], "fc_bias"),
    ],
    inputs: [valueInfo("x", ["N", 6, 10, 7])],
    outputs: [valueInfo("y", ["N", 3])],
    initializers: [
      ...bnParams("norm", 6),
      weights("w", [4, 6, 1, 1]),
      weights("b", [4]),
      ...bnParams("post", 4),
      int64s("shape", [0, -1]),
      weights("fcw", [4, 3]),
      weights("fcb", [3]),
    ],
  });
  await agrees(bytes, [3, 6, 10, 7], "planned", 4);
});

Lowering("two-input Concat chains share one buffer; SAME_UPPER convs read the BN-ReLU of each prefix", async () => {
  const layer = (input, i) => [
    bn(input, `l${i}.bn`, `l${i}.n`),
    node("Relu", [`l${i}.n`], [`l${i}.r`], `l${i}.relu`),
    node("Conv", [`l${i}.r`, `l${i}.w`], [`l${i}.y`], `l${i}.conv`, [attr.string("auto_pad", "SAME_UPPER")]),
    node("Concat", [input, `l${i}.y`], [`cat${i}`], `cat${i}`, [attr.int("axis", 1)]),
  ];
  const bytes = model({
    nodes: [
      node("Conv", ["x", "stem.w"], ["s"], "stem", [attr.ints("kernel_shape", [1, 1])]),
      ...layer("s", 0),
      ...layer("cat0", 1),
      ...layer("cat1", 2),
      node("GlobalAveragePool", ["cat2"], ["y"], "gap"),
    ],
    inputs: [valueInfo("x", ["N", 3, 8, 8])],
    outputs: [valueInfo("y", ["N", 10, 1, 1])],
    initializers: [
      weights("stem.w", [4, 3, 1, 1]),
      ...[0, 1, 2].flatMap((i) => [...bnParams(`l${i}.bn`, 4 + 2 * i), weights(`l${i}.w`, [2, 4 + 2 * i, 3, 3])]),
    ],
  });
  // stem, three layer convs, global pool: the Concats are no ops at all.
  await agrees(bytes, [2, 3, 8, 8], "planned", 5);
});

Lowering.run();
