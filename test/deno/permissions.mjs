// Run by test/hostile_api.test.mjs under Deno with some permissions missing: loading a model
// must fail with a DenseNetError naming the flag, never an uncaught NotCapable.
import { Session } from "../../dist/index.js";

try {
  const session = await Session.create(Deno.args[0], { threads: 1 });
  console.log(`loaded ${session.info.name}`);
  await session.release();
} catch (e) {
  console.log(`${e.name}: ${e.message}`);
}
