// The token maps `analyze` writes for a modular checkpoint, against float64 loops written here
// from the definitions (not the tensor library's matmul, einsum or Fourier basis, nor the hooked
// model): each head's full QK and OV circuits, the attention `=` pays to x over every (x, y) from
// a hand-written forward pass of layer 0, and W_E, W_Uᵀ in a Fourier basis built from cos and sin.
// The maps keep 4 significant digits: each value is held to 5e-4 relative (plus 1e-9 absolute).
import * as assert from "node:assert/strict";
import { modularTask } from "../../engine/data/mod.ts";
import { cpuRunner } from "../../engine/hooks/mod.ts";
import { analyzeCheckpoint } from "../../engine/analysis/checkpoint_report.ts";
import { eqAttention, roundMap } from "../../engine/analysis/token_maps.ts";
import { Tensor } from "../../engine/tensor/mod.ts";
import { GROKKING_SMALL, randomWeights } from "./models.ts";

const cfg = GROKKING_SMALL; // p = 7, d_model 12, 4 heads of 3, no LayerNorm
const p = cfg.d_vocab_out;
const V = cfg.d_vocab;
const D = cfg.d_model;
const E = cfg.d_head;
const weights = randomWeights(cfg, 11);
const w = (name: string) => weights.get(name)!.data;
/** Head h's `[D, E]` matrix of a `[H, D, E]` weight, element (d, e). */
const head = (name: string, h: number) => (d: number, e: number) => w(name)[(h * D + d) * E + e]!;

function assertMap(actual: readonly number[], expected: readonly number[], what: string) {
  assert.equal(actual.length, expected.length, what);
  let worst = 0;
  actual.forEach((a, i) => {
    const x = expected[i]!;
    worst = Math.max(worst, Math.abs(a - x) / (5e-4 * Math.abs(x) + 1e-9));
  });
  assert.ok(worst <= 1, `${what}: ${worst.toFixed(2)} × the tolerance`);
}

/** `Σ_d a(d) · b(d)` over the residual. */
function overD(f: (d: number) => number): number {
  let s = 0;
  for (let d = 0; d < D; d++) s += f(d);
  return s;
}

Deno.test("token maps: full QK and OV circuits, attention from =, W_E and W_U in the Fourier basis", async () => {
  const task = modularTask({ op: "add", p, frac_train: 0.5, data_seed: 0 });
  const report = await analyzeCheckpoint(cpuRunner(cfg, weights), {
    cfg,
    task,
    weights,
    step: 0,
  });
  const maps = report.modular!.maps!;
  assert.deepEqual([maps.d_vocab, maps.d_model, maps.heads.length], [V, D, cfg.n_heads]);
  const W_E = (t: number, d: number) => w("embed.W_E")[t * D + d]!;
  const W_U = (d: number, u: number) => w("unembed.W_U")[d * p + u]!;
  for (const { layer, head: h, qk, ov, eq_to_x } of maps.heads) {
    assert.equal(layer, 0);
    const [Q, K, Vw] = ["W_Q", "W_K", "W_V"].map((n) => head(`blocks.0.attn.${n}`, h));
    const O = (e: number, d: number) => w("blocks.0.attn.W_O")[(h * E + e) * D + d]!;
    // (W_E W_Q)[t, e] and the like: the token's query, key, value through the embedding alone.
    const via = (M: (d: number, e: number) => number) => (t: number, e: number) =>
      overD((d) => W_E(t, d) * M(d, e));
    const [q, k, v] = [Q!, K!, Vw!].map(via);
    const qkRef: number[] = [];
    for (let a = 0; a < V; a++) {
      for (let b = 0; b < V; b++) {
        let s = 0;
        for (let e = 0; e < E; e++) s += q!(a, e) * k!(b, e);
        qkRef.push(s);
      }
    }
    assertMap(qk, qkRef, `head ${h} QK`);
    const ovRef: number[] = [];
    for (let t = 0; t < V; t++) {
      for (let u = 0; u < p; u++) {
        let s = 0;
        for (let e = 0; e < E; e++) s += v!(t, e) * overD((d) => O(e, d) * W_U(d, u));
        ovRef.push(s);
      }
    }
    assertMap(ov, ovRef, `head ${h} OV`);
    // Layer 0 by hand: resid = W_E[tok] + W_pos[pos]; q, k with biases; the `=` row's softmax
    // over positions 0..2, scaled by 1/sqrt(d_head); its weight on position 0 (x).
    const bQ = (e: number) => w("blocks.0.attn.b_Q")[h * E + e]!;
    const bK = (e: number) => w("blocks.0.attn.b_K")[h * E + e]!;
    const resid = (t: number, pos: number, d: number) =>
      W_E(t, d) + w("pos_embed.W_pos")[pos * D + d]!;
    const attnRef: number[] = [];
    for (let x = 0; x < p; x++) {
      for (let y = 0; y < p; y++) {
        const tokens = [x, y, p];
        const proj = (pos: number, M: (d: number, e: number) => number, b: (e: number) => number) =>
          Array.from(
            { length: E },
            (_, e) => overD((d) => resid(tokens[pos]!, pos, d) * M(d, e)) + b(e),
          );
        const query = proj(2, Q!, bQ);
        const scores = [0, 1, 2].map((pos) => {
          const key = proj(pos, K!, bK);
          return query.reduce((s, qe, e) => s + qe * key[e]!, 0) / Math.sqrt(E);
        });
        const top = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - top));
        attnRef.push(exps[0]! / (exps[0]! + exps[1]! + exps[2]!));
      }
    }
    assertMap(eq_to_x!, attnRef, `head ${h} attention from = to x`);
  }
  // The Fourier basis from its definition: 1/√p, then √(2/p)·cos(2πkx/p), √(2/p)·sin(2πkx/p).
  const basis = (row: number, x: number) => {
    if (row === 0) return 1 / Math.sqrt(p);
    const k = Math.ceil(row / 2);
    const wave = row % 2 === 1 ? Math.cos : Math.sin;
    return Math.sqrt(2 / p) * wave((2 * Math.PI * k * x) / p);
  };
  const inBasis = (M: (x: number, d: number) => number) =>
    Array.from({ length: p * D }, (_, i) => {
      const [row, d] = [Math.floor(i / D), i % D];
      let s = 0;
      for (let x = 0; x < p; x++) s += basis(row, x) * M(x, d);
      return s;
    });
  assertMap(maps.embed_fourier, inBasis(W_E), "F · W_E[:p]");
  assertMap(maps.unembed_fourier, inBasis((x, d) => W_U(d, x)), "F · W_Uᵀ");
});

Deno.test("token maps: rounding keeps 4 significant digits; the attention from = is pattern[:, h, -1, 0]", () => {
  assert.deepEqual(roundMap([123456, 0.000987654, -2.5e-7]), [123500, 0.0009877, -2.5e-7]);
  // N = 2 examples, H = 2 heads, T = 2 positions; row T − 1 of each head's pattern.
  const pattern = new Tensor(
    Float64Array.of(1, 0, 0.25, 0.75, 1, 0, 0.5, 0.5, 1, 0, 0.125, 0.875, 1, 0, 1, 0),
    [2, 2, 2, 2],
  );
  assert.deepEqual(eqAttention(pattern), [[0.25, 0.125], [0.5, 1]]);
});
