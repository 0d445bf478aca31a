// Zero-copy concatenation: every value that enters a channel Concat gets a fixed channel
// offset in one shared buffer, so each Concat is a view of channels its inputs already sit
// in. DenseNet's concats (each layer's input is the block input plus all earlier layers'
// outputs, written as full lists or as chains of two-input Concats) all share one buffer
// per dense block.

/** A Concat along channels: output = inputs stacked in order. */
export interface ChannelConcat {
  readonly output: string;
  readonly inputs: readonly string[];
}

export interface Placement {
  readonly group: number;
  /** First channel of the value in its group's buffer. */
  readonly offset: number;
}

export interface ConcatLayout {
  readonly placements: ReadonlyMap<string, Placement>;
  /** Each group's buffer width and a name for it (its widest Concat's output). */
  readonly groups: readonly { readonly channels: number; readonly name: string }[];
}

/**
 * Solves "input k of a Concat starts where input k-1 ends, and the output starts at input
 * 0" for all Concats at once (a union-find whose links carry channel offsets). Returns a
 * reason instead when the constraints conflict (a value needed at two offsets) or when two
 * values that are not Concat outputs would overlap.
 */
export function layoutConcats(concats: readonly ChannelConcat[], channels: (name: string) => number | null): ConcatLayout | string {
  const parent = new Map<string, string>(),
    delta = new Map<string, number>();
  const find = (x: string): [string, number] => {
    if (!parent.has(x)) {
      parent.set(x, x);
      delta.set(x, 0);
    }
    const p = parent.get(x)!;
    if (p === x) return [x, 0];
    const [root, d] = find(p);
    parent.set(x, root);
    delta.set(x, delta.get(x)! + d);
    return [root, delta.get(x)!];
  };
  for (const c of concats) {
    let offset = 0;
    for (const input of c.inputs) {
      const [ra, da] = find(c.output),
        [rb, db] = find(input);
      if (ra === rb && db !== da + offset) return `'${input}' would need two different channel offsets`;
      if (ra !== rb) {
        parent.set(rb, ra);
        delta.set(rb, da + offset - db);
      }
      const n = channels(input);
      if (n === null) return `the channel count of '${input}' is not known`;
      offset += n;
    }
  }
  const roots = new Map<string, number>(),
    groups: { channels: number; name: string; min: number }[] = [];
  const located = [...parent.keys()].map((name) => {
    const [root, d] = find(name);
    if (!roots.has(root)) {
      roots.set(root, groups.length);
      groups.push({ channels: 0, name: root, min: Infinity });
    }
    const g = groups[roots.get(root)!];
    g.min = Math.min(g.min, d);
    return { name, group: roots.get(root)!, at: d, n: channels(name)! };
  });
  const outputs = new Set(concats.map((c) => c.output));
  const placements = new Map<string, Placement>();
  for (const v of located) {
    const g = groups[v.group];
    placements.set(v.name, { group: v.group, offset: v.at - g.min });
    if (v.at - g.min + v.n > g.channels) {
      g.channels = v.at - g.min + v.n;
      g.name = v.name;
    }
  }
  const leaves = located.filter((v) => !outputs.has(v.name)).sort((a, b) => a.group - b.group || a.at - b.at);
  for (let i = 1; i < leaves.length; i++) {
    const [a, b] = [leaves[i - 1], leaves[i]];
    if (a.group === b.group && a.at + a.n > b.at) return `'${a.name}' and '${b.name}' would overlap in one buffer`;
  }
  return { placements, groups: groups.map(({ channels: c, name }) => ({ channels: c, name })) };
}
