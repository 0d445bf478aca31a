// Run under Deno by test/threads.test.mjs: a 2-thread inference on a fixture, printing the
// output's float32 bit patterns as JSON so the test can compare them with Node's bit for bit.
import { Session } from "../../dist/index.js";

const [model, threads, seed] = Deno.args;
const session = await Session.create(model, { threads: Number(threads) });
const dims = [2, 3, 45, 37];
const data = new Float32Array(dims.reduce((a, b) => a * b)).map((_, i) => Math.sin(i * Number(seed)));
const y = await session.run({ data, dims });
await session.release();
console.log(JSON.stringify({ dims: y.dims, bits: Array.from(new Uint32Array(y.data.buffer)) }));
