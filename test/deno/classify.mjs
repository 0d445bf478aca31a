// Run under Deno by test/classify.test.mjs: classify() on image files with 2 threads, printing
// the results as JSON so the test can compare them with Node's exactly.
import { Session } from "../../dist/index.js";

const [model, ...files] = Deno.args;
const session = await Session.create(model, { threads: 2 });
const results = await session.classify(files, { top: 3 });
await session.release();
console.log(JSON.stringify(results));
