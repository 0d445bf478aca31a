// int64 constants the interpreter reads as numbers (Reshape's shape, Pad's pads) must be
// safe integers: a value beyond 2^53 would silently round, so it is a one-line error.
import { suite } from "uvu";
import { Session } from "../dist/index.js";
import { model, node, rejectsWith, valueInfo } from "./onnx_helpers.mjs";

const Int64 = suite("ONNX int64 constants");

Int64("a Reshape shape beyond 2^53 is an error naming the node", async () => {
  const bytes = model({
    nodes: [node("Reshape", ["x", "shape"], ["y"], "flat")],
    inputs: [valueInfo("x", [1, 4])],
    outputs: [valueInfo("y", [1, 4])],
    initializers: [{ name: "shape", dims: [2], dataType: 7, int64Data: [1, "9007199254740993"] }],
  });
  await rejectsWith(Session.create(bytes), /Reshape "flat": shape: value 9007199254740993 is beyond the safe integer range/);
});

Int64("safe values still reshape", async () => {
  const bytes = model({
    nodes: [node("Reshape", ["x", "shape"], ["y"], "flat")],
    inputs: [valueInfo("x", [1, 4])],
    outputs: [valueInfo("y", [2, 2])],
    initializers: [{ name: "shape", dims: [2], dataType: 7, int64Data: [2, 2] }],
  });
  const session = await Session.create(bytes);
  const y = await session.run({ data: Float32Array.of(1, 2, 3, 4), dims: [1, 4] });
  await session.release();
  if (y.dims.join() !== "2,2" || y.data.join() !== "1,2,3,4") throw new Error(`got ${y.dims} ${y.data}`);
});

Int64.run();
