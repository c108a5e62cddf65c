// QK and OV circuits against computations done another way: the matrices entry by entry from
// the weights, the singular values as square roots of the eigenvalues of MᵀM (eigh, not svd),
// the rank bound d_head, a hand-built head, and the full OV circuit multiplied in another order.
import * as assert from "node:assert/strict";
import { fullOvCircuit, headCircuits, ovMatrix, qkMatrix } from "../../engine/analysis/circuits.ts";
import { DEFAULT_MODEL, type ModelConfig } from "../../engine/model/config.ts";
import { paramLayout } from "../../engine/model/params.ts";
import { eigh, matmul, svd, Tensor, transpose } from "../../engine/tensor/mod.ts";
import { assertClose } from "../helpers.ts";
import { ATTN_ONLY_LN, GELU_LN, randomWeights } from "./models.ts";

/** `[D, D]`: `Σ_e A[h, i, e] · B[h, j, e]` when `bByRow`, else `Σ_e A[h, i, e] · B[h, e, j]`. */
function headProduct(A: Tensor, B: Tensor, h: number, bByRow: boolean): Float64Array {
  const [, D, E] = A.shape as [number, number, number];
  const out = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < D; j++) {
      let s = 0;
      for (let e = 0; e < E; e++) {
        const b = bByRow ? B.data[(h * D + j) * E + e]! : B.data[(h * E + e) * D + j]!;
        s += A.data[(h * D + i) * E + e]! * b;
      }
      out[i * D + j] = s;
    }
  }
  return out;
}

/** Singular values of `M`, descending, as sqrt of the eigenvalues of MᵀM (clamped at 0). */
function singularByEigh(M: Tensor): number[] {
  const { values } = eigh(matmul(transpose(M), M));
  return Array.from(values.data).reverse().map((v) => Math.sqrt(Math.max(v, 0)));
}

const WIDE_HEAD: ModelConfig = { ...GELU_LN, n_layers: 1, d_head: 16 }; // d_head > d_model 12

for (
  const [name, cfg] of [["2 layers", GELU_LN], ["attn_only", ATTN_ONLY_LN], [
    "d_head > d_model",
    WIDE_HEAD,
  ]] as const
) {
  const weights = randomWeights(cfg, 21);

  Deno.test(`circuits (${name}): QK and OV entry by entry`, () => {
    for (let l = 0; l < cfg.n_layers; l++) {
      const w = (n: string) => weights.get(`blocks.${l}.attn.${n}`)!;
      for (let h = 0; h < cfg.n_heads; h++) {
        const qk = qkMatrix(weights, l, h);
        assert.deepEqual(qk.shape, [cfg.d_model, cfg.d_model]);
        assertClose(qk.data, headProduct(w("W_Q"), w("W_K"), h, true), 1e-12, `QK L${l}H${h}`);
        const ov = ovMatrix(weights, l, h);
        assertClose(ov.data, headProduct(w("W_V"), w("W_O"), h, false), 1e-12, `OV L${l}H${h}`);
      }
    }
  });

  Deno.test(`circuits (${name}): singular values match eigh of MᵀM; rank <= d_head`, () => {
    const heads = headCircuits(cfg, weights);
    assert.equal(heads.length, cfg.n_layers * cfg.n_heads);
    const r = Math.min(cfg.d_head, cfg.d_model);
    for (const c of heads) {
      for (
        const [values, M] of [
          [c.qk_singular, qkMatrix(weights, c.layer, c.head)],
          [c.ov_singular, ovMatrix(weights, c.layer, c.head)],
        ] as const
      ) {
        assert.equal(values.length, r);
        const byEigh = singularByEigh(M);
        assertClose(values, byEigh.slice(0, r), 1e-9 * values[0]!, `L${c.layer}H${c.head}`);
        for (let i = 1; i < r; i++) assert.ok(values[i]! <= values[i - 1]!, "descending");
        // The rest are zero: rank <= d_head.
        const rest = Array.from(svd(M).S.data.subarray(r));
        assert.ok(rest.every((s) => s < 1e-12 * values[0]!), `beyond d_head: ${rest}`);
      }
    }
  });

  Deno.test(`circuits (${name}): full OV circuit is W_E · OV · W_U`, () => {
    const W_E = weights.get("embed.W_E")!;
    const W_U = weights.get("unembed.W_U")!;
    const full = fullOvCircuit(weights, cfg.n_layers - 1, 1);
    assert.deepEqual(full.shape, [cfg.d_vocab, cfg.d_vocab_out]);
    const other = matmul(matmul(W_E, ovMatrix(weights, cfg.n_layers - 1, 1)), W_U);
    assertClose(full, other, 1e-11, "full OV");
  });
}

Deno.test("circuits: a hand-built head", () => {
  // W_Q[0] = [[3, 0], [0, 2], [0, 0]], W_K[0] = the first two unit vectors: QK = diag(3, 2, 0).
  // W_V[0] = W_K[0], W_O[0] = [[0, 0, 1], [0, -4, 0]]: OV maps e0 to e2 and e1 to -4·e1.
  const cfg: ModelConfig = {
    ...DEFAULT_MODEL,
    n_heads: 1,
    d_head: 2,
    d_model: 3,
    d_mlp: 4,
    d_vocab: 4,
    d_vocab_out: 3,
  };
  const weights = new Map<string, Tensor>();
  for (const s of paramLayout(cfg).specs) {
    weights.set(s.name, new Tensor(new Float64Array(s.size), s.shape));
  }
  const units = new Float64Array([1, 0, 0, 1, 0, 0]);
  weights.set("blocks.0.attn.W_Q", new Tensor(new Float64Array([3, 0, 0, 2, 0, 0]), [1, 3, 2]));
  weights.set("blocks.0.attn.W_K", new Tensor(units, [1, 3, 2]));
  weights.set("blocks.0.attn.W_V", new Tensor(units, [1, 3, 2]));
  weights.set("blocks.0.attn.W_O", new Tensor(new Float64Array([0, 0, 1, 0, -4, 0]), [1, 2, 3]));
  assert.deepEqual([...qkMatrix(weights, 0, 0).data], [3, 0, 0, 0, 2, 0, 0, 0, 0]);
  assert.deepEqual([...ovMatrix(weights, 0, 0).data], [0, 0, 1, 0, -4, 0, 0, 0, 0]);
  const [c] = headCircuits(cfg, weights);
  assertClose(c!.qk_singular, [3, 2], 1e-15, "QK singular values");
  assertClose(c!.ov_singular, [4, 1], 1e-15, "OV singular values");
  assert.throws(() => qkMatrix(weights, 0, 1), /head 1 is outside/);
});
