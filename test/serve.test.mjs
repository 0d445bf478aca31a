// `densenet serve` in process: OIP v2 routes, a few hundred concurrent infer requests (valid
// and invalid mixed, dynamically batched) each compared bit for bit with Session.run on that
// input alone, metrics, request errors, the binary extension and classify (limits and failures:
// serve_limits.test.mjs). Loopback, ephemeral ports, servers closed here.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session, classify } from "../dist/index.js";
import { InferenceServer } from "../dist/serve/server.js";
import { fixturesDir, randomArray } from "./helpers.mjs";
import {
  OPTIONS,
  agent,
  binaryBody,
  bits,
  encodePng,
  inferBody,
  metricValue,
  modelPath,
  request,
  responseBits,
  startServer,
} from "./serve_helpers.mjs";

const Serve = suite("serve: routes and batching");
let ctx, reference;

Serve.before(async () => {
  ctx = await startServer();
  reference = await Session.create(modelPath, { threads: 1 });
});

Serve.after(async () => {
  await ctx.server.close();
  await reference.release();
  agent.destroy();
});

Serve("health, server and model metadata, model readiness", async () => {
  const { port } = ctx;
  assert.equal((await request(port, "GET", "/v2/health/live")).json, { live: true });
  const ready = await request(port, "GET", "/v2/health/ready");
  assert.is(ready.status, 200);
  assert.equal(ready.json, { ready: true });
  const version = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
  assert.equal((await request(port, "GET", "/v2")).json, { name: "densenet-wasm", version, extensions: ["binary_tensor_data"] });
  const meta = await request(port, "GET", "/v2/models/narrow");
  assert.is(meta.status, 200);
  assert.is(meta.headers["content-type"], "application/json");
  assert.equal(meta.json, {
    name: "narrow",
    versions: ["1"],
    platform: "densenet-wasm",
    inputs: [{ name: "input", datatype: "FP32", shape: [-1, 3, -1, -1] }],
    outputs: [{ name: "logits", datatype: "FP32", shape: [-1, 7] }],
  });
  assert.equal((await request(port, "GET", "/v2/models/narrow/versions/1")).json, meta.json);
  assert.equal((await request(port, "GET", "/v2/models/narrow/ready")).json, { name: "narrow", ready: true });
});

/** The i-th request of the mixed load: a valid tensor (flat or nested data) or one of several bad bodies. */
function mixedRequest(i) {
  const sizes = [
    [33, 37],
    [40, 40],
  ];
  const [h, w] = sizes[i % 2];
  const n = 1 + (i % 3);
  const tensor = { data: randomArray(n * 3 * h * w, 1000 + i), dims: [n, 3, h, w] };
  switch (i % 6) {
    case 3:
      return { body: JSON.stringify(inferBody(tensor)).replace(/"data":\[[^,]+/, '"data":[1e999'), error: /not a finite float32/ };
    case 4: {
      const bad = [
        { body: '{"inputs": [', error: /not valid JSON/ },
        { body: inferBody({ data: tensor.data.subarray(0, 30), dims: [1, 3, 2, 5] }), error: /too small/ },
        { body: { inputs: [{ ...inferBody(tensor).inputs[0], datatype: "FP16" }] }, error: /datatype must be "FP32"/ },
        {
          body: { inputs: [{ ...inferBody(tensor).inputs[0], shape: [n, 1, h, w] }] },
          error: /does not match the model's \[-1, 3, -1, -1\]/,
        },
        { body: { inputs: [{ ...inferBody(tensor).inputs[0], name: "x" }] }, error: /unknown input 'x'/ },
      ];
      return bad[Math.floor(i / 6) % bad.length];
    }
    case 5: {
      // nested as the shape: [n][3][h][w]
      const nested = Array.from({ length: n }, (_, a) =>
        Array.from({ length: 3 }, (_, b) =>
          Array.from({ length: h }, (_, c) => Array.from(tensor.data.subarray(((a * 3 + b) * h + c) * w, ((a * 3 + b) * h + c + 1) * w))),
        ),
      );
      return { body: { id: `r${i}`, inputs: [{ name: "input", shape: tensor.dims, datatype: "FP32", data: nested }] }, tensor };
    }
    default:
      return { body: inferBody(tensor, { id: `r${i}` }), tensor };
  }
}

Serve("300 concurrent infer requests, valid and invalid mixed: each answer bitwise equals Session.run alone", async () => {
  const { port } = ctx;
  const cases = Array.from({ length: 300 }, (_, i) => mixedRequest(i));
  const answers = await Promise.all(cases.map((c) => request(port, "POST", "/v2/models/narrow/infer", c.body)));
  let valid = 0,
    images = 0;
  for (let i = 0; i < cases.length; i++) {
    const { tensor, error } = cases[i];
    const a = answers[i];
    if (error) {
      assert.is(a.status, 400, `request ${i}: ${a.text}`);
      assert.ok(error.test(a.json.error), `request ${i}: '${a.json.error}' does not match ${error}`);
      assert.ok(!a.json.error.includes("\n"));
      continue;
    }
    assert.is(a.status, 200, `request ${i}: ${a.text}`);
    const alone = await reference.run(tensor);
    assert.is(a.json.model_name, "narrow");
    assert.is(a.json.id, `r${i}`);
    assert.equal(
      a.json.outputs.map((o) => [o.name, o.datatype, o.shape]),
      [["logits", "FP32", alone.dims]],
    );
    assert.equal(responseBits(a.json), bits(alone), `request ${i}: bits differ from Session.run alone`);
    valid++;
    images += tensor.dims[0];
  }
  assert.ok(valid >= 150, `${valid} valid requests`);
  const metrics = (await request(port, "GET", "/metrics")).text;
  const runs = metricValue(metrics, 'densenet_batch_size_count{model="narrow"}');
  assert.is(metricValue(metrics, 'densenet_batch_size_sum{model="narrow"}'), images, "every valid image ran once");
  assert.ok(runs < valid, `requests were batched: ${runs} runs for ${valid} requests`);
  assert.is(metricValue(metrics, 'densenet_requests_total{model="narrow",endpoint="infer",code="200"}'), valid);
  assert.is(metricValue(metrics, 'densenet_requests_total{model="narrow",endpoint="infer",code="400"}'), 300 - valid);
});

Serve("/metrics: Prometheus text with requests, errors, latency and batch-size histograms, queue depth, images/s", async () => {
  const { port } = ctx;
  await request(port, "GET", "/v2/models/nope");
  const res = await request(port, "GET", "/metrics");
  assert.is(res.status, 200);
  assert.match(res.headers["content-type"], /^text\/plain; version=0\.0\.4/);
  const text = res.text;
  for (const type of [
    "densenet_requests_total counter",
    "densenet_request_errors_total counter",
    "densenet_request_duration_seconds histogram",
    "densenet_batch_size histogram",
    "densenet_queue_depth gauge",
    "densenet_images_per_second gauge",
    "densenet_images_total counter",
  ]) {
    assert.ok(text.includes(`# TYPE ${type}\n`), `missing # TYPE ${type}`);
  }
  assert.is(
    metricValue(text, 'densenet_requests_total{model="",endpoint="model_metadata",code="404"}'),
    1,
    'an unknown model is counted under model=""',
  );
  assert.ok(metricValue(text, 'densenet_request_errors_total{model="narrow",endpoint="infer"}') > 0);
  assert.is(metricValue(text, "densenet_queue_depth"), 0);
  assert.ok(metricValue(text, "densenet_images_per_second") > 0);
  const count = metricValue(text, 'densenet_request_duration_seconds_count{model="narrow",endpoint="infer"}');
  assert.is(metricValue(text, 'densenet_request_duration_seconds_bucket{model="narrow",endpoint="infer",le="+Inf"}'), count);
  for (const line of text.trim().split("\n")) assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? -?[0-9.e+-]+)$/);
});

Serve("errors: 404 unknown model, route or version; 405 wrong method; 400 bad requests; all one-line {error}", async () => {
  const { port } = ctx;
  /** @type {[string, string, unknown, number, RegExp][]} */
  const cases = [
    ["GET", "/v2/models/nope", undefined, 404, /^unknown model 'nope'; this server has \[narrow\]$/],
    ["POST", "/v2/models/nope/infer", "{}", 404, /unknown model 'nope'/],
    ["GET", "/v2/models/narrow/versions/7", undefined, 404, /no version '7'/],
    ["GET", "/v3/whatever", undefined, 404, /no route for \/v3\/whatever/],
    ["GET", "/v2/models/narrow/infer", undefined, 405, /infer takes POST, not GET/],
    ["POST", "/v2/health/live", "{}", 405, /takes GET/],
    ["GET", "/v2/models/%E0%A4%A/ready", undefined, 400, /percent-encoding/],
    ["GET", "//", undefined, 400, /request target '\/\/' is not a valid path/],
    ["POST", "/v2/models/narrow/infer", "[1, 2]", 400, /must be a JSON object/],
    ["POST", "/v2/models/narrow/infer", '{"inputs": []}', 400, /'inputs' must be a non-empty array/],
    ["POST", "/v2/models/narrow/infer", { id: 5, inputs: [] }, 400, /'id' must be a string, got number 5/],
    [
      "POST",
      "/v2/models/narrow/infer",
      { inputs: [{ name: "input", shape: [1, 3, 40], datatype: "FP32", data: [] }] },
      400,
      /must have rank 4/,
    ],
    [
      "POST",
      "/v2/models/narrow/infer",
      { inputs: [{ name: "input", shape: [1, 3, 40, 40], datatype: "FP32", data: [1, 2] }] },
      400,
      /'data' has 2 values; shape \[1, 3, 40, 40\] needs 4800/,
    ],
    [
      "POST",
      "/v2/models/narrow/infer",
      { inputs: [{ name: "input", shape: [1, 3, 1, 2], datatype: "FP32", data: [1, 2, 3, "4", 5, 6] }] },
      400,
      /data\[3\] must be a number, got string "4"/,
    ],
    [
      "POST",
      "/v2/models/narrow/infer",
      { inputs: [{ name: "input", shape: [0, 3, 8, 8], datatype: "FP32", data: [] }] },
      400,
      /positive integers/,
    ],
    [
      "POST",
      "/v2/models/narrow/infer",
      { inputs: [inferBody({ data: new Float32Array(4800), dims: [1, 3, 40, 40] }).inputs[0]], outputs: [{ name: "probs" }] },
      400,
      /unknown output 'probs'/,
    ],
    [
      "POST",
      "/v2/models/narrow/infer",
      `{"inputs":[{"name":"input","shape":[1,3,40,40],"datatype":"FP32","data":[${"[1],".repeat(4799)}[1]]}]}`,
      400,
      /more than \d+ arrays and objects .*send tensor data flat/,
    ],
  ];
  for (const [method, path, body, status, pattern] of cases) {
    const res = await request(port, method, path, body);
    assert.is(res.status, status, `${method} ${path}: ${res.text}`);
    assert.equal(Object.keys(res.json), ["error"], `${method} ${path}: ${res.text}`);
    assert.ok(
      pattern.test(res.json.error) && !res.json.error.includes("\n"),
      `${method} ${path}: '${res.json.error}' does not match ${pattern}`,
    );
    if (status === 405) assert.ok(res.headers.allow, "405 names the allowed method");
  }
});

Serve("outputs selection and id are honoured; the response's floats parse back to the same float32", async () => {
  const tensor = { data: randomArray(3 * 36 * 36, 7, 3), dims: [1, 3, 36, 36] };
  const res = await request(ctx.port, "POST", "/v2/models/narrow/infer", {
    ...inferBody(tensor, { id: "abc" }),
    outputs: [{ name: "logits" }],
    parameters: {},
  });
  assert.is(res.status, 200, res.text);
  assert.is(res.json.id, "abc");
  assert.equal(responseBits(res.json), bits(await reference.run(tensor)));
});

Serve("binary tensor data extension (tritonclient's default): binary inputs and outputs, bitwise; its errors are 400s", async () => {
  const { port } = ctx;
  const a = { data: randomArray(2 * 3 * 34 * 38, 21), dims: [2, 3, 34, 38] };
  const input = { name: "input", shape: a.dims, datatype: "FP32", parameters: { binary_data_size: a.data.byteLength } };
  const alone = await reference.run(a);
  // Binary in, binary out.
  const both = binaryBody({ inputs: [input], outputs: [{ name: "logits", parameters: { binary_data: true } }] }, [a]);
  const res = await request(port, "POST", "/v2/models/narrow/infer", both.body, { headers: both.headers });
  assert.is(res.status, 200, res.text);
  assert.is(res.headers["content-type"], "application/octet-stream");
  const jsonLength = Number(res.headers["inference-header-content-length"]);
  const header = JSON.parse(res.raw.subarray(0, jsonLength).toString());
  assert.equal(header.outputs, [{ name: "logits", shape: [2, 7], datatype: "FP32", parameters: { binary_data_size: 2 * 7 * 4 } }]);
  const out = res.raw.subarray(jsonLength);
  assert.equal(Array.from(new Uint32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.length))), bits(alone));
  // The binary data at every offset mod 4 (the server views it where aligned, copies it where not), concurrently.
  const shifted = await Promise.all(
    [0, 1, 2, 3].map((pad) => {
      const header = `${JSON.stringify({ inputs: [input] })}${" ".repeat(pad)}`;
      const body = new Uint8Array(Buffer.concat([Buffer.from(header), Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)]));
      return request(port, "POST", "/v2/models/narrow/infer", body, {
        headers: { "Inference-Header-Content-Length": String(header.length) },
      });
    }),
  );
  for (const r of shifted) assert.equal(responseBits(r.json), bits(alone), r.text);
  // Binary in, JSON out; and JSON in with binary_data_output.
  const jsonOut = binaryBody({ inputs: [input] }, [a]);
  const res2 = await request(port, "POST", "/v2/models/narrow/infer", jsonOut.body, { headers: jsonOut.headers });
  assert.is(res2.headers["content-type"], "application/json");
  assert.equal(responseBits(res2.json), bits(alone));
  const res3 = await request(port, "POST", "/v2/models/narrow/infer", { ...inferBody(a), parameters: { binary_data_output: true } });
  assert.equal(
    Array.from(new Uint32Array(new Uint8Array(res3.raw.subarray(Number(res3.headers["inference-header-content-length"]))).buffer)),
    bits(alone),
  );
  /** @type {[{ body: Uint8Array, headers: Record<string, string> }, RegExp][]} */
  const bad = [
    [binaryBody({ inputs: [{ ...input, parameters: { binary_data_size: 12 } }] }, [a]), /binary_data_size must be 31008/],
    [binaryBody({ inputs: [input] }, [a, a]), /has 62016 bytes of binary data, its inputs. binary_data_size take 31008/],
    [binaryBody({ inputs: [input] }, [{ data: a.data.subarray(0, 100) }]), /binary data ends at byte 400/],
    [binaryBody({ inputs: [{ ...input, data: [1] }] }, [a]), /either 'data' or parameters.binary_data_size/],
    [
      binaryBody({ inputs: [input] }, [{ data: Float32Array.from(a.data, (v, i) => (i === 5 ? NaN : v)) }]),
      /binary value NaN at index 5 is not finite/,
    ],
    [{ body: both.body, headers: { "Inference-Header-Content-Length": "99999999" } }, /must be an integer from 0 to the body's/],
    [{ body: both.body, headers: { "Inference-Header-Content-Length": "12" } }, /not valid JSON/],
  ];
  for (const [{ body, headers }, pattern] of bad) {
    const r = await request(port, "POST", "/v2/models/narrow/infer", body, { headers });
    assert.is(r.status, 400, r.text);
    assert.ok(pattern.test(r.json.error), `'${r.json.error}' does not match ${pattern}`);
  }
});

Serve("classify: PNG bodies, concurrently, answer as classify() does; bad images and top are 400s", async () => {
  const { port } = ctx;
  const pngs = [
    [61, 47],
    [80, 80],
    [47, 90],
  ].map(([w, h], k) => encodePng(w, h, (x, y) => [(x * 7 + k * 50) & 255, (y * 5) & 255, (x * y + 3 * k) & 255]));
  const answers = await Promise.all(
    pngs.map((png) => request(port, "POST", "/v2/models/narrow/classify?top=3", png, { headers: { "Content-Type": "image/png" } })),
  );
  const expected = await classify(reference, pngs, { top: 3 });
  answers.forEach((a, i) => {
    assert.is(a.status, 200, a.text);
    assert.equal(a.json, {
      model_name: "narrow",
      model_version: "1",
      top: /** @type {{ top: readonly import("../dist/index.js").ClassScore[] }} */ (expected[i]).top,
    });
  });
  assert.is((await request(port, "POST", "/v2/models/narrow/classify", pngs[0])).json.top.length, 5, "top defaults to 5");
  /** @type {[string, Uint8Array, RegExp][]} */
  const bad = [
    ["/v2/models/narrow/classify?top=0", pngs[0], /top must be an integer from 1 to 7/],
    ["/v2/models/narrow/classify?top=8", pngs[0], /top must be an integer from 1 to 7/],
    ["/v2/models/narrow/classify", new Uint8Array(0), /needs an image/],
    ["/v2/models/narrow/classify", pngs[0].subarray(0, 60), /./],
    ["/v2/models/narrow/classify", new TextEncoder().encode("GIF89a not really"), /./],
  ];
  for (const [path, body, pattern] of bad) {
    const res = await request(port, "POST", path, body, { headers: { "Content-Type": "image/png" } });
    assert.is(res.status, 400, `${path}: ${res.text}`);
    assert.ok(pattern.test(res.json.error) && !res.json.error.includes("\n"), res.json.error);
  }
});

Serve(
  "classify with a labelled 1000-class model: JPEG and PNG photos give PyTorch's top-5 (scripts/make_classify_fixtures.py)",
  async () => {
    const dir = new URL("classify/", fixturesDir);
    const server = new InferenceServer(OPTIONS);
    const { port } = await server.listen();
    server.addModel("imagenet", await Session.create(new URL("imagenet-small.safetensors", dir).pathname, { threads: 2 }));
    server.setReady();
    try {
      const expected = JSON.parse(readFileSync(new URL("expected.json", dir), "utf8"));
      const answers = await Promise.all(
        expected.map((e) =>
          request(port, "POST", "/v2/models/imagenet/classify?top=5", readFileSync(new URL(e.file, dir)), {
            headers: { "Content-Type": e.file.endsWith(".png") ? "image/png" : "image/jpeg" },
          }),
        ),
      );
      answers.forEach((a, i) => {
        const e = expected[i];
        assert.is(a.status, 200, `${e.file}: ${a.text}`);
        assert.equal(
          a.json.top.map((c) => [c.index, c.label]),
          e.top.map((c) => [c.index, c.label]),
          `${e.file}: top-5`,
        );
        a.json.top.forEach((c, j) =>
          assert.ok(
            Math.abs(c.probability - e.top[j].probability) <= 1e-5,
            `${e.file}: probability ${c.probability} vs PyTorch ${e.top[j].probability}`,
          ),
        );
      });
    } finally {
      await server.close();
    }
  },
);

Serve.run();
