// `densenet serve` in process, at its limits: 413 past the body limit, 503 + Retry-After when
// the queue or the memory budget is full, 504 past the timeout, a client leaving (499), a
// worker failing (500), --max-sizes, an ONNX graph that fixes its batch, and models that cannot
// be served. Loopback, ephemeral ports, servers closed by the test that started them.
import { request as httpRequest } from "node:http";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session } from "../dist/index.js";
import { InferenceServer } from "../dist/serve/server.js";
import { modelMetadata } from "../dist/serve/protocol.js";
import { injectFaultForTesting } from "../dist/session/fault.js";
import { fixturesDir, randomArray } from "./helpers.mjs";
import {
  OPTIONS,
  agent,
  binaryBody,
  bits,
  inferBody,
  metricValue,
  modelPath,
  request,
  responseBits,
  startServer,
} from "./serve_helpers.mjs";

const Limits = suite("serve: limits and failures (413, 503, 504, 500, --max-sizes)");

Limits("413 past the body limit (declared or streamed); the connection stays usable", async () => {
  const { server, port } = await startServer({ maxBodyBytes: 64 * 1024 });
  try {
    const big = inferBody({ data: randomArray(3 * 40 * 40, 3), dims: [1, 3, 40, 40] });
    const res = await request(port, "POST", "/v2/models/narrow/infer", big);
    assert.is(res.status, 413, res.text);
    assert.match(res.json.error, /request body exceeds the limit of 65536 bytes/);
    const chunked = await request(port, "POST", "/v2/models/narrow/infer", JSON.stringify(big), { chunked: true });
    assert.is(chunked.status, 413, chunked.text);
    assert.is((await request(port, "GET", "/v2/health/live")).status, 200);
    const small = { data: randomArray(3 * 33 * 33, 4), dims: [1, 3, 33, 33] };
    assert.is((await request(port, "POST", "/v2/models/narrow/infer", inferBody(small))).status, 200);
  } finally {
    await server.close();
  }
});

Limits("503 + Retry-After when the queue is full; 504 past the timeout, and a timed-out request never runs", async () => {
  const { server, port } = await startServer({ maxQueue: 2, maxDelayMs: 60000, maxBatch: 64, timeoutMs: 400 });
  try {
    const body = inferBody({ data: randomArray(3 * 33 * 33, 5), dims: [1, 3, 33, 33] });
    const first = [request(port, "POST", "/v2/models/narrow/infer", body), request(port, "POST", "/v2/models/narrow/infer", body)];
    await new Promise((r) => setTimeout(r, 150));
    const full = await request(port, "POST", "/v2/models/narrow/infer", body);
    assert.is(full.status, 503, full.text);
    assert.is(full.headers["retry-after"], "1");
    assert.match(full.json.error, /queue is full \(2 requests waiting\)/);
    for (const res of await Promise.all(first)) {
      assert.is(res.status, 504, res.text);
      assert.match(res.json.error, /no answer within 400 ms/);
    }
    const metrics = (await request(port, "GET", "/metrics")).text;
    assert.is(metricValue(metrics, "densenet_queue_depth"), 0, "timed-out requests left the queue");
    assert.is(metricValue(metrics, 'densenet_images_total{model="narrow"}'), undefined, "nothing ran");
  } finally {
    await server.close();
  }
});

Limits("a client that leaves takes its request out of the queue (counted as 499); it never runs", async () => {
  const { server, port } = await startServer({ maxDelayMs: 60000, maxBatch: 64 });
  try {
    const body = JSON.stringify(inferBody({ data: randomArray(3 * 33 * 33, 6), dims: [1, 3, 33, 33] }));
    const req = httpRequest({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: "/v2/models/narrow/infer",
      agent: false,
      headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
    });
    req.on("error", () => {});
    req.end(body);
    const queued = async (n) => {
      for (let i = 0; i < 200; i++) {
        const text = (await request(port, "GET", "/metrics")).text;
        if (metricValue(text, "densenet_queue_depth") === n) return text;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.unreachable(`queue depth never reached ${n}`);
    };
    await queued(1);
    req.destroy();
    const text = await queued(0);
    await new Promise((r) => setTimeout(r, 50));
    const after = (await request(port, "GET", "/metrics")).text;
    assert.is(metricValue(after, 'densenet_requests_total{model="narrow",endpoint="infer",code="499"}'), 1, text);
    assert.is(metricValue(after, 'densenet_images_total{model="narrow"}'), undefined, "nothing ran");
  } finally {
    await server.close();
  }
});

Limits("--max-sizes bounds the image sizes a model plans", async () => {
  const { server, port } = await startServer({ maxSizes: 2, maxDelayMs: 0 });
  try {
    const send = (s) =>
      request(port, "POST", "/v2/models/narrow/infer", inferBody({ data: randomArray(3 * s * s, s), dims: [1, 3, s, s] }));
    assert.is((await send(33)).status, 200);
    assert.is((await send(34)).status, 200);
    const third = await send(35);
    assert.is(third.status, 400);
    assert.match(third.json.error, /already serves 2 image sizes \(33x33, 34x34\)/);
    assert.is((await send(33)).status, 200, "a planned size still works");
  } finally {
    await server.close();
  }
});

Limits("503 + Retry-After past the memory all requests may hold; the bytes are given back after each answer", async () => {
  const { server, port } = await startServer({ maxMemoryBytes: 100_000 });
  try {
    const big = await request(
      port,
      "POST",
      "/v2/models/narrow/infer",
      inferBody({ data: randomArray(3 * 40 * 40, 8), dims: [1, 3, 40, 40] }),
    );
    assert.is(big.status, 503, big.text);
    assert.is(big.headers["retry-after"], "1");
    assert.match(big.json.error, /its limit is 0 MiB \(--max-memory-mb\); retry later/);
    for (let i = 0; i < 3; i++) {
      const small = await request(
        port,
        "POST",
        "/v2/models/narrow/infer",
        inferBody({ data: randomArray(3 * 33 * 33, i), dims: [1, 3, 33, 33] }),
      );
      assert.is(small.status, 200, `request ${i} after the refusal: ${small.text}`);
    }
  } finally {
    await server.close();
  }
});

Limits("a worker failing during a run is a 500 for that request only; the next one is answered", async () => {
  const server = new InferenceServer(OPTIONS);
  const { port } = await server.listen();
  // split: both workers run every step, so the faulty one surely runs (a small model's image may run whole on one)
  const session = await Session.create(modelPath, { threads: 2, splitImages: "always" });
  server.addModel("narrow", session);
  server.setReady();
  try {
    const tensor = { data: randomArray(3 * 33 * 33, 9), dims: [1, 3, 33, 33] };
    injectFaultForTesting(session, { worker: 1, at: 2, mode: "throw" });
    const failed = await request(port, "POST", "/v2/models/narrow/infer", inferBody(tensor));
    assert.is(failed.status, 500, failed.text);
    assert.match(failed.json.error, /^a worker failed during the run: /);
    const next = await request(port, "POST", "/v2/models/narrow/infer", inferBody(tensor));
    assert.is(next.status, 200, next.text);
    const reference = await Session.create(modelPath, { threads: 1 });
    assert.equal(responseBits(next.json), bits(await reference.run(tensor)));
    await reference.release();
  } finally {
    await server.close();
  }
});

Limits(
  "an ONNX graph that fixes its input to [2, 3, 64, 64]: other shapes are 400s, batches fall back to single runs, answers stay bitwise",
  async () => {
    const server = new InferenceServer({ ...OPTIONS, maxDelayMs: 200 }); // long enough for the 6 requests to meet in one batch
    const { port } = await server.listen();
    const path = new URL("onnx/bc_style.caffe2.onnx", fixturesDir).pathname;
    server.addModel("caffe2", await Session.create(path, { threads: 2 }));
    server.setReady();
    const reference = await Session.create(path, { threads: 1 });
    try {
      const meta = (await request(port, "GET", "/v2/models/caffe2")).json;
      // the metadata shows the dimensions the graph fixes (and -1 for none here)
      assert.equal(meta.inputs, [{ name: "data_0", datatype: "FP32", shape: [2, 3, 64, 64] }]);
      assert.equal(meta.outputs, [{ name: "fc6_1", datatype: "FP32", shape: [2, 10, 1, 1] }]);
      const tensors = Array.from({ length: 6 }, (_, i) => ({ data: randomArray(2 * 3 * 64 * 64, 300 + i), dims: [2, 3, 64, 64] }));
      const body = (t) => ({ inputs: [{ name: "data_0", shape: t.dims, datatype: "FP32", data: Array.from(t.data) }] });
      for (let round = 0; round < 2; round++) {
        // the first round's batch fails and falls back; the second is not batched
        const answers = await Promise.all(tensors.map((t) => request(port, "POST", "/v2/models/caffe2/infer", body(t))));
        for (let i = 0; i < tensors.length; i++) {
          assert.is(answers[i].status, 200, answers[i].text);
          const alone = await reference.run(tensors[i]);
          assert.equal(answers[i].json.outputs[0].shape, alone.dims);
          assert.equal(responseBits(answers[i].json), bits(alone), `round ${round}, request ${i}`);
        }
      }
      const one = { data: randomArray(3 * 64 * 64, 1), dims: [1, 3, 64, 64] };
      const refused = await request(port, "POST", "/v2/models/caffe2/infer", body(one));
      assert.is(refused.status, 400, refused.text);
      assert.match(refused.json.error, /input 'data_0': shape \[1, 3, 64, 64\] does not match the model's \[2, 3, 64, 64\]/);
      const metrics = (await request(port, "GET", "/metrics")).text;
      assert.is(metricValue(metrics, 'densenet_batch_size_count{model="caffe2"}'), 12, "every request ran on its own");
      assert.is(metricValue(metrics, 'densenet_batch_size_sum{model="caffe2"}'), 24);
    } finally {
      await server.close();
      await reference.release();
    }
  },
);

Limits(
  "metadata: an ONNX graph with a symbolic batch and a fixed 224x224 shows [-1, 3, 224, 224]; a torchvision file [-1, C, -1, -1]",
  async () => {
    const onnx = await Session.create(new URL("onnx/tiny121.opset13.onnx", fixturesDir).pathname, { threads: 1 });
    const torch = await Session.create(new URL("tiny121.safetensors", fixturesDir).pathname, { threads: 1 });
    try {
      const meta = modelMetadata("m", onnx);
      assert.equal(meta.inputs[0].shape, [-1, 3, 224, 224]);
      assert.equal(meta.outputs[0].shape, [-1, 10]);
      assert.equal(modelMetadata("t", torch).inputs[0].shape, [-1, 3, -1, -1]);
    } finally {
      await onnx.release();
      await torch.release();
    }
  },
);

Limits("the event loop stays free while a batch runs on the pool: /v2/health/live answers during the run", async () => {
  const server = new InferenceServer({ ...OPTIONS, maxDelayMs: 0, maxBodyBytes: 32 * 2 ** 20 });
  const { port } = await server.listen();
  server.addModel("tiny", await Session.create(new URL("tiny121.safetensors", fixturesDir).pathname, { threads: 2 }));
  server.setReady();
  try {
    // A batch long enough (~0.5 s here) that a liveness answer cannot come after it by chance.
    const images = { data: randomArray(24 * 3 * 224 * 224, 12), dims: [24, 3, 224, 224] };
    const { body, headers } = binaryBody(
      { inputs: [{ name: "input", shape: images.dims, datatype: "FP32", parameters: { binary_data_size: images.data.byteLength } }] },
      [images],
    );
    const infer = request(port, "POST", "/v2/models/tiny/infer", body, { headers });
    const batcher = server["batcher"];
    const deadline = Date.now() + 20000;
    while (!batcher.busy) {
      assert.ok(Date.now() < deadline, "the batch never started");
      await new Promise((r) => setTimeout(r, 1));
    }
    const t0 = performance.now();
    const live = await request(port, "GET", "/v2/health/live");
    const ms = performance.now() - t0;
    assert.is(live.status, 200);
    assert.ok(batcher.busy, `the liveness answer (${ms.toFixed(1)} ms) came only after the batch`);
    assert.is((await infer).status, 200);
  } finally {
    await server.close();
  }
});

Limits("a model on the interpreter is refused at load with one line", async () => {
  const server = new InferenceServer(OPTIONS);
  const session = await Session.create(new URL("../test/conformance/onnx-node/test_add/model.onnx", import.meta.url).pathname);
  try {
    assert.throws(() => server.addModel("add", session), /cannot be served: it runs on the op-by-op interpreter/);
  } finally {
    await session.release();
  }
});

Limits.after(() => agent.destroy());

Limits.run();
