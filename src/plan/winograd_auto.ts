// winograd: "auto": which 3x3 convs run as F(4x4, 3x3) and which as F(2x2, 3x3), decided once
// when the weights are packed, from the sizes the convs have at the model's nominal input
// size (its preprocessing crop; 224x224 where the file does not say).
import type { ModelMetadata } from "../model/metadata.js";
import type { ConvOp, Graph, WinogradTile } from "./graph.js";
import { inferSpatial } from "./shapes.js";
import type { Spatial } from "./window.js";

/**
 * F(4x4) where the conv's output at the nominal size is at least this many pixels on both
 * sides. Measured on DenseNet-121 at 224x224, one thread, per step (`densenet bench
 * --profile`): F(4x4) over F(2x2) 1.3x at 56x56, 1.23x at 28x28 (5.7 against 7.0 ms for its
 * 12 convs, since tile rows are no longer padded to 4 tiles), 0.97x at 14x14, 0.6x at 7x7;
 * its weights are 2.25x F(2x2)'s bytes. Whole model, from 28x28 up against from 56x56 up
 * (same-process A/B, 40 runs each): 0.984-0.991x the time at 1 thread, 0.989-0.997x at 2,
 * 0.94-0.97x at batch 8, for +3.9 MB of weights (peak RSS of `densenet run` 104.6 -> 108.5 MB,
 * within the 110 MB target once the activations shrank to 4.8 MiB: plan/arena.ts).
 */
export const AUTO_F4X4_MIN_SIDE = 28;

/** The input size a model is mostly run at: its preprocessing's crop, or ImageNet's 224x224. */
export function nominalInputSize(metadata: ModelMetadata): Spatial {
  const crop = metadata.preprocess?.crop ?? 224;
  return typeof crop === "number" ? { height: crop, width: crop } : { height: crop[0], width: crop[1] };
}

/** The tile of each eligible conv of `graph` for winograd: "auto" (F(2x2) for all where the nominal size does not fit the network). */
export function autoWinogradTiles(graph: Graph, nominal: Spatial): (op: ConvOp) => WinogradTile {
  let sizes: Spatial[];
  try {
    sizes = inferSpatial(graph, nominal.height, nominal.width);
  } catch {
    return () => "f2x2";
  }
  return (op) => {
    const out = sizes[op.output.buffer]!;
    return Math.min(out.height, out.width) >= AUTO_F4X4_MIN_SIDE ? "f4x4" : "f2x2";
  };
}
