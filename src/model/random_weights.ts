import type { StoredTensor } from "../io/safetensors.js";
import type { DenseNetConfig } from "./config.js";
import { expectedShapes } from "./weights.js";
import { elementCount } from "../tensor.js";

/** A small, fast, seeded generator (mulberry32) with uniform and normal draws. */
export class SeededRandom {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = 1 - this.uniform(),
      v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/**
 * Deterministic random weights for a configuration, under torchvision's names: He-normal
 * convs (torchvision's init), randomised BatchNorm (so no BN is an identity) and a random
 * classifier. For benchmarks and smoke tests; the same seed gives the same weights.
 */
export function randomWeights(config: DenseNetConfig, seed = 0): Map<string, StoredTensor> {
  const rng = new SeededRandom(seed);
  const out = new Map<string, StoredTensor>();
  for (const [name, shape] of expectedShapes(config)) {
    const data = new Float32Array(elementCount(shape));
    const fanIn = shape.length > 1 ? elementCount(shape.slice(1)) : 1;
    const fill = (f: () => number) => {
      for (let i = 0; i < data.length; i++) data[i] = f();
    };
    if (name.endsWith("running_var")) fill(() => 0.5 + 1.5 * rng.uniform());
    else if (name.endsWith("running_mean")) fill(() => 0.3 * rng.normal());
    else if (shape.length === 1 && name.endsWith(".weight")) fill(() => 0.5 + rng.uniform());
    else if (name.endsWith(".bias")) fill(() => 0.2 * rng.normal());
    else if (name.startsWith("classifier")) fill(() => rng.normal() / Math.sqrt(fanIn));
    else fill(() => rng.normal() * Math.sqrt(2 / fanIn));
    out.set(name, { dtype: "F32", shape, data });
  }
  return out;
}
