// Generation on the GPU (lavapipe here): the decoding kernel against the CPU's cached attention
// (attendCached, f64 sums) on random data past one workgroup's stride of keys; the cached and
// uncached GPU sources' logits at every position against the float64 reference forward (the
// cached one's also with caches for fewer positions than n_ctx), and greedy tokens the same from
// all four sources (CPU and GPU, cached or not); `mechlab sample --device gpu` prints what the
// CPU does, greedy and drawn.
import * as assert from "node:assert/strict";
import { decodeAttention } from "../../kernels/mod.ts";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import { initParams, paramLayout, unflatten } from "../../engine/model/params.ts";
import {
  attendCached,
  CpuCachedModel,
  CpuUncachedModel,
  generate,
  GpuCachedModel,
  GpuUncachedModel,
  type TokenModel,
} from "../../engine/sample/mod.ts";
import { Rng } from "../../engine/tensor/mod.ts";
import { assertClose, mechlab } from "../helpers.ts";
import { gpuTest } from "../gpu/gpu_helpers.ts";
import { sampleConfig, trainTiny } from "./sample_helpers.ts";

const CFG = sampleConfig(80);
const LAYOUT = paramLayout(CFG);
const PARAMS = initParams(CFG, LAYOUT);

gpuTest("sample gpu: decode_attention appends k, v and attends as attendCached", async (gpu) => {
  const [C, H, E] = [200, 3, 5];
  const rng = new Rng(7);
  const normals = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const cache = { k: normals(C * H * E), v: normals(C * H * E) };
  const kCache = gpu.upload(cache.k, [C, H, E]);
  const vCache = gpu.upload(cache.v, [C, H, E]);
  const step = gpu.upload(new Int32Array(2), [2]);
  const [q, k, v, z] = [0, 1, 2, 3].map(() => gpu.empty([1, 1, H, E]));
  const dispatches = await decodeAttention(gpu, { step, q: q!, k: k!, v: v! }, {
    kCache,
    vCache,
    z: z!,
  });
  for (const pos of [0, 63, 64, 150, 199]) {
    const [qs, ks, vs] = [normals(H * E), normals(H * E), normals(H * E)];
    gpu.write(q!, qs);
    gpu.write(k!, ks);
    gpu.write(v!, vs);
    gpu.write(step, new Int32Array([0, pos]));
    gpu.run(dispatches);
    cache.k.set(ks, pos * H * E);
    cache.v.set(vs, pos * H * E);
    const [got, gotK, gotV] = await gpu.read([z!, kCache, vCache]);
    assertClose(got!.data, attendCached(qs, cache, { T: pos + 1, H, E }), 1e-5, `z at ${pos}`);
    assert.deepEqual(gotK!.data.subarray(pos * H * E, (pos + 1) * H * E), ks);
    assert.deepEqual(gotV!.data.subarray(pos * H * E, (pos + 1) * H * E), vs);
  }
  for (const t of [kCache, vCache, step, q!, k!, v!, z!]) t.release();
});

gpuTest("sample gpu: cached and uncached logits equal the float64 forward", async (gpu) => {
  const rng = new Rng(1);
  const tokens = Array.from({ length: 70 }, () => Math.floor(rng.uniform() * 11));
  const U = CFG.d_vocab_out;
  // Positions in the residual stream, and a shortformer's: in each layer's q and k only.
  for (const cfg of [CFG, { ...CFG, positional_embedding_type: "shortformer" as const }]) {
    const kind = cfg.positional_embedding_type;
    const ref = cpuForward(cfg, unflatten(LAYOUT, PARAMS), Int32Array.from(tokens), 1).logits;
    const cached = await GpuCachedModel.create(gpu, cfg, LAYOUT, PARAMS);
    const uncached = await GpuUncachedModel.create(gpu, cfg, LAYOUT, PARAMS);
    try {
      for (const [t, token] of tokens.entries()) {
        const want = ref.data.subarray(t * U, (t + 1) * U);
        assertClose(await cached.push(token), want, 1e-4, `cached logits at ${t} (${kind})`);
        if (t % 10 === 9) {
          assertClose(await uncached.push(token), want, 1e-4, `uncached at ${t} (${kind})`);
        } else await uncached.push(token);
      }
    } finally {
      cached.release();
      uncached.release();
    }
  }
});

gpuTest(
  "sample gpu: caches for fewer positions give the same logits, then the sequence is full",
  async (gpu) => {
    const tokens = [3, 7, 1, 9, 4, 4, 0, 10, 2, 5, 6, 8];
    const U = CFG.d_vocab_out;
    const ref = cpuForward(CFG, unflatten(LAYOUT, PARAMS), Int32Array.from(tokens), 1).logits;
    const positions = tokens.length; // of CFG's n_ctx 80
    const cached = await GpuCachedModel.create(gpu, CFG, LAYOUT, PARAMS, { positions });
    try {
      assert.equal(cached.nCtx, positions);
      for (const [t, token] of tokens.entries()) {
        const want = ref.data.subarray(t * U, (t + 1) * U);
        assertClose(await cached.push(token), want, 1e-4, `logits at ${t}`);
      }
      await assert.rejects(cached.push(1), /the sequence is full: n_ctx 12/);
    } finally {
      cached.release();
    }
    for (const bad of [0, 81, 2.5]) {
      await assert.rejects(
        GpuCachedModel.create(gpu, CFG, LAYOUT, PARAMS, { positions: bad }),
        new RegExp(`positions ${bad}: expected an integer from 1 to n_ctx 80`),
      );
    }
  },
);

gpuTest("sample gpu: greedy tokens are the same on all four sources", async (gpu) => {
  const options = { maxNewTokens: 30, temperature: 0, seed: 0 };
  const run = async (model: TokenModel) => {
    const out: number[] = [];
    try {
      for await (const t of generate(model, [4, 2, 9], options)) out.push(t.token);
    } finally {
      model.release();
    }
    return out;
  };
  const cpu = await run(new CpuCachedModel(CFG, LAYOUT, PARAMS));
  assert.deepEqual(await run(new CpuUncachedModel(CFG, LAYOUT, PARAMS)), cpu);
  assert.deepEqual(await run(await GpuCachedModel.create(gpu, CFG, LAYOUT, PARAMS)), cpu);
  assert.deepEqual(await run(await GpuUncachedModel.create(gpu, CFG, LAYOUT, PARAMS)), cpu);
  assert.ok(new Set(cpu).size > 1, `${cpu}`); // not one token over and over
});

gpuTest("sample gpu: mechlab sample --device gpu answers as the CPU", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const run = await trainTiny(runs);
    const args = ["sample", "--run", run, "--prompt", "3", "--max-new-tokens", "3", "--json"];
    const hot = [...args, "--temperature", "1.5", "--seed", "4"];
    for (const line of [args, hot]) {
      const [cpu, gpu] = [await mechlab(...line), await mechlab(...line, "--device", "gpu")];
      assert.equal(gpu.code, 0, gpu.err);
      assert.equal(gpu.out, cpu.out);
    }
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});
