// The engine core on the adapter at hand: upload and bulk readback (in pieces above 4 MiB), the
// pipeline cache, loud compile errors, the buffer pool, errors surfaced on read, and the template
// filler (no GPU).
import * as assert from "node:assert/strict";
import { fillTemplate, ShaderError, sizeClass } from "../../engine/gpu/mod.ts";
import { gpuTest } from "./gpu_helpers.ts";

Deno.test("fillTemplate: fills every placeholder and rejects missing, unused and multi-line values", () => {
  assert.equal(fillTemplate("a {{X}} b {{Y}} {{X}}", { X: 3, Y: "f32" }), "a 3 b f32 3");
  assert.throws(() => fillTemplate("{{X}} {{Y}}", { X: 1 }), /\{\{Y\}\} has no value/);
  assert.throws(() => fillTemplate("{{X}}", { X: 1, Z: 2 }), /no placeholder \{\{Z\}\}/);
  assert.throws(() => fillTemplate("{{X}}", { X: "a\nb" }), /holds a newline/);
});

Deno.test("sizeClass: next 2^n or 1.5 * 2^n, at least 256 bytes", () => {
  assert.deepEqual([1, 256, 257, 384, 385, 1000, 1100, 4096].map(sizeClass), [
    256,
    256,
    384,
    384,
    512,
    1024,
    1536,
    4096,
  ]);
});

Deno.test("sizeClass: above 64 MiB, the request rounded up to 64 KiB (no third wasted)", () => {
  const MiB = 2 ** 20;
  assert.deepEqual([64 * MiB, 64 * MiB + 1, 652_000_000].map(sizeClass), [
    64 * MiB, // still a class: 2^26
    64 * MiB + 65536,
    9949 * 65536, // GPT-2 small's processed weights: 622 MiB, not the 768 MiB class
  ]);
});

gpuTest("gpu: the adapter is described, a software one as a fallback", (gpu) => {
  const line = gpu.describe();
  assert.ok(line.startsWith(gpu.adapter.description), line);
  if (/llvmpipe|lavapipe/.test(gpu.adapter.description)) {
    assert.ok(gpu.adapter.isFallback && line.includes("[software fallback]"), line);
  }
  // The device gets the adapter's limits, not WebGPU's defaults (128 MiB, 16 KiB).
  assert.ok(gpu.device.limits.maxComputeWorkgroupStorageSize >= 16384);
  assert.ok(gpu.device.limits.maxStorageBufferBindingSize >= 128 * 1024 * 1024);
  return Promise.resolve();
});

gpuTest("gpu: timestamp-query is requested where offered, shader-f16 (unused) never", (gpu) => {
  // What the adapter offers, asked anew: the device's features must be what mechlab uses of it.
  return navigator.gpu.requestAdapter().then((adapter) => {
    const offered = adapter!.features.has("timestamp-query");
    assert.equal(gpu.device.features.has("timestamp-query"), offered);
    assert.equal(gpu.adapter.features.includes("timestamp-query"), offered);
    assert.equal(gpu.device.features.has("shader-f16"), false);
    assert.ok(!gpu.describe().includes("shader-f16"), gpu.describe());
  });
});

gpuTest("gpu: upload and read back f32 and i32 in one bulk read", async (gpu) => {
  const f = gpu.upload(new Float32Array([1.5, -2, 3.25, 1e-30, 7, 8]), [2, 3]);
  const i = gpu.upload(new Int32Array([-1, 2147483647, 0]), [3]);
  const [fb, ib] = await gpu.read([f, i]);
  assert.deepEqual(fb!.shape, [2, 3]);
  assert.equal(fb!.dtype, "f32");
  assert.deepEqual([...fb!.data], [1.5, -2, 3.25, Math.fround(1e-30), 7, 8]);
  assert.equal(ib!.dtype, "i32");
  assert.deepEqual([...ib!.data], [-1, 2147483647, 0]);
  assert.throws(
    () => gpu.upload(new Float32Array(5), [2, 3]),
    /5 values do not fill shape \[2,3\]/,
  );
  const z = gpu.zeros([5]);
  assert.deepEqual([...(await gpu.read([z]))[0]!.data], [0, 0, 0, 0, 0]);
  for (const t of [f, i, z]) t.release();
});

gpuTest("gpu: a read of more than 4 MiB comes back whole, piece by piece", async (gpu) => {
  // 6 MiB, 12 bytes and a view 1 KiB into a 2.4 MiB tensor: pieces of 4 MiB split the first and
  // the last, and one holds the end of the first, all of the second and the start of the last.
  const a = Float32Array.from({ length: 1_572_864 }, (_, i) => i * 0.5 - 7);
  const b = new Int32Array([-3, 2147483647, 12]);
  const c = Float32Array.from({ length: 600_256 }, (_, i) => (i % 977) - 0.25);
  const [ta, tb, tc] = [gpu.upload(a, [3, 524_288]), gpu.upload(b), gpu.upload(c)];
  const view = tc.view(256, [600_000]); // from byte 1,024
  const [ra, rb, rc] = await gpu.read([ta, tb, view]);
  assert.deepEqual(ra!.shape, [3, 524_288]);
  assert.ok(ra!.data instanceof Float32Array && rb!.data instanceof Int32Array);
  assert.deepEqual(ra!.data, a);
  assert.deepEqual([...rb!.data], [-3, 2147483647, 12]);
  assert.deepEqual(rc!.data, c.subarray(256));
  for (const t of [ta, tb, tc]) t.release();
});

gpuTest("gpu: pipelines are cached by source and entry point", async (gpu) => {
  const src = "@compute @workgroup_size(1) fn main() {}\n@compute @workgroup_size(1) fn other() {}";
  const before = gpu.pipelineCount;
  const p1 = await gpu.pipeline(src, "main", "cache.wgsl");
  const p2 = await gpu.pipeline(src, "main", "cache.wgsl");
  const p3 = await gpu.pipeline(src, "other", "cache.wgsl");
  assert.equal(p1, p2);
  assert.notEqual(p1, p3);
  assert.equal(gpu.pipelineCount, before + 2);
});

gpuTest("gpu: a compile error names file, line and column, and shows the source", async (gpu) => {
  const src = "// line 1\n@compute @workgroup_size(1)\nfn main() {\n  let x: f32 = 1u;\n}";
  const err = await gpu.pipeline(src, "main", "broken.wgsl").then(() => null, (e) => e);
  assert.ok(err instanceof ShaderError, String(err));
  const [first, second] = err.message.split("\n");
  assert.match(first!, /^broken\.wgsl:4:\d+: /);
  assert.equal(second, "  4 |   let x: f32 = 1u;");
  assert.ok(err.message.includes("1 | // line 1"), "the numbered source is attached");
});

gpuTest("gpu: pooled buffers are reused by size class", (gpu) => {
  const a = gpu.empty([1000]);
  const buffer = a.buffer;
  a.release();
  const b = gpu.empty([990]);
  assert.equal(b.buffer, buffer);
  b.release();
  return Promise.resolve();
});

gpuTest("gpu: a validation error surfaces at the next read", async (gpu) => {
  const x = gpu.upload(new Float32Array(4), [4]);
  // A bind group over a tensor bound beyond its buffer's end is a validation error.
  gpu.device.createBindGroup({
    layout: gpu.device.createBindGroupLayout({
      entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "storage" } }],
    }),
    entries: [{ binding: 0, resource: { buffer: x.buffer, offset: 0, size: x.buffer.size + 16 } }],
  });
  await assert.rejects(gpu.read([x]), /GPU error/);
  x.release();
});
