// torch.save checkpoints (.pth): read through the ZIP archive and a restricted unpickler that
// executes nothing; the same logits as the safetensors files, bit for bit.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import { Session } from "../dist/index.js";
import { assertBitwiseEqual, assertMatchesReference, fixture, fixtureNpy, rejectsWith } from "./helpers.mjs";

const path = fixture;
const npy = fixtureNpy;

async function logits(model, input) {
  const session = await Session.create(model, { threads: 1 });
  try {
    return (await session.run(input)).data;
  } finally {
    await session.release();
  }
}

const Pth = suite("torch.save checkpoints");

for (const [file, fixture] of [
  ["pth/narrow_odd.pth", "narrow_odd"],
  ["pth/narrow_odd.strided.pth", "narrow_odd"],
  ["pth/legacy_keys.ckpt.pth", "legacy_keys"],
]) {
  Pth(`${file} gives bitwise the logits of ${fixture}.safetensors, and matches PyTorch`, async () => {
    const x = npy(`${fixture}.input.npy`);
    const fromPth = await logits(path(file), x);
    assertBitwiseEqual(fromPth, await logits(path(`${fixture}.safetensors`), x), file);
    assertMatchesReference({ data: fromPth }, npy(`${fixture}.output.npy`));
  });
}

Pth("a checkpoint that would run code on load is refused, naming the global", async () => {
  await rejectsWith(
    Session.create(path("pth/malicious.pth")),
    /refusing to load global '(posix|os)\.system': a checkpoint may only hold tensors and dicts/,
  );
});

Pth("truncated checkpoints are one-line errors", async () => {
  const bytes = readFileSync(path("pth/narrow_odd.pth"));
  for (const cut of [10, 200, bytes.length / 2, bytes.length - 10]) {
    await rejectsWith(Session.create(bytes.subarray(0, Math.floor(cut))), /not a complete ZIP archive|truncated|corrupt|not a torch.save/);
  }
});

Pth.run();
