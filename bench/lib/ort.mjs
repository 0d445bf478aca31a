// What the two onnxruntime adapters (bench/peers/ort_node_runner.mjs, ort_web_runner.mjs)
// share: one float32 input, one output, read back as { data, dims }.

/** A harness model (see bench/lib/harness.mjs) over an onnxruntime InferenceSession. */
export function ortModel(ort, session, info) {
  const [inName] = session.inputNames;
  const [outName] = session.outputNames;
  return {
    info,
    async run({ data, dims }) {
      const out = (await session.run({ [inName]: new ort.Tensor("float32", data, dims) }))[outName];
      return { data: out.data, dims: out.dims.map(Number) };
    },
    release: () => session.release?.(),
  };
}
