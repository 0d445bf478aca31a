// Run under Deno by test/image_deno.test.mjs: decodes the images named on the command line
// (JPEG, PNG, CMYK JPEG, WebP), preprocesses each with the spec given as JSON, and prints the decoded
// pixels' and the tensor's bytes as hex SHA-256 so the test can compare them with Node's.
import { imageDigests } from "./image_digests.mjs";

const [specJson, ...files] = Deno.args;
console.log(JSON.stringify(await imageDigests(files, JSON.parse(specJson))));
