/**
 * Causal attention in f32 for the fast CPU model, forward and backward side by side, tiled over
 * queries as FlashAttention is: each block of `TILE` queries sees its scores against the keys up
 * to its last query, so memory holds `TILE × T` scores, never `[batch, head, T, T]` (at T = 1,024
 * and 16 rows that would be 256 MiB per layer). The forward keeps each row's logsumexp; the
 * backward recomputes the pattern from it.
 *
 * Shape letters: B batch, T pos, H n_heads, E d_head. `qkv [B·T, 3·H·E]` holds q, k, v side by
 * side (columns `s·H·E + h·E + e` for s = 0, 1, 2), as one product of the fused `W_Q|W_K|W_V`
 * writes them; `z [B·T, H·E]` is TransformerLens' `hook_z` flattened, which `W_O [H·E, D]` reads.
 *
 * @module
 */

import { expRange } from "../../tensor/exp_wasm.ts";
import { mm } from "./linear.ts";

/** Queries per tile: 64 skips about a quarter of the causal mask's dead half at T = 128. */
const TILE = 64;

/** The sizes attention reads. */
export interface AttentionDims {
  B: number;
  T: number;
  H: number;
  E: number;
}

/**
 * `z [B·T, H·E]` and each query's logsumexp `lse [B, H, T]` of the scaled, masked scores.
 *
 * @example
 * ```ts
 * import { attentionForward } from "./attention.ts";
 * // B 1, T 2, H 1, E 1: q = k = 0, so the second query averages v = [1, 3]
 * const qkv = new Float32Array([0, 0, 1, 0, 0, 3]);
 * const { z } = attentionForward(qkv, { B: 1, T: 2, H: 1, E: 1 });
 * z; // Float32Array [1, 2]
 * ```
 */
export function attentionForward(
  qkv: Float32Array,
  dims: AttentionDims,
): { z: Float32Array; lse: Float32Array } {
  const { B, T, H, E } = dims;
  const HE = H * E;
  const z = new Float32Array(B * T * HE);
  const lse = new Float32Array(B * H * T);
  const scores = new Float32Array(Math.min(TILE, T) * T);
  const scale = 1 / Math.sqrt(E);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const head = { b, h, dims, qkv };
      for (let i0 = 0; i0 < T; i0 += TILE) {
        const rows = Math.min(TILE, T - i0);
        const keys = i0 + rows;
        tileScores(head, i0, rows, scores);
        const maxes = new Float64Array(rows);
        for (let r = 0; r < rows; r++) {
          const row = r * keys;
          const last = i0 + r; // the causal mask: keys after the query are out
          let max = -Infinity;
          for (let j = 0; j <= last; j++) max = Math.max(max, scores[row + j]!);
          maxes[r] = max * scale;
          for (let j = 0; j <= last; j++) scores[row + j] = scores[row + j]! * scale - max * scale;
          scores.fill(-Infinity, row + last + 1, row + keys);
        }
        expRange(scores, 0, rows * keys); // the unnormalised pattern, 0 where masked
        // z[i0 : i0 + rows, head h] = P @ v[0 : keys], each row then divided by its sum
        const zTile = (b * T + i0) * HE + h * E;
        mm(
          { data: z, off: zTile, ld: HE },
          { data: scores, ld: keys },
          { data: qkv, off: b * T * 3 * HE + 2 * HE + h * E, ld: 3 * HE },
          { m: rows, k: keys, n: E },
        );
        for (let r = 0; r < rows; r++) {
          let sum = 0;
          for (let j = r * keys; j <= r * keys + i0 + r; j++) sum += scores[j]!;
          for (let e = 0; e < E; e++) z[zTile + r * HE + e] = z[zTile + r * HE + e]! / sum;
          lse[(b * H + h) * T + i0 + r] = maxes[r]! + Math.log(sum);
        }
      }
    }
  }
  return { z, lse };
}

/**
 * `dqkv [B·T, 3·H·E]`, the gradient of q, k and v, from `dz [B·T, H·E]` and what the forward
 * kept. With `Δ_i = Σ_e dz[i, e] · z[i, e]` (= Σ_j P_ij dP_ij), each tile recomputes
 * `P = exp(s - lse)`, then `dP = dz @ vᵀ`, `dS = P · (dP - Δ)`, `dq = dS @ k · scale`,
 * `dk += dSᵀ @ q · scale`, `dv += Pᵀ @ dz`.
 *
 * @example
 * ```ts
 * import { attentionBackward, attentionForward } from "./attention.ts";
 * const qkv = new Float32Array([0, 0, 1, 0, 0, 3]);
 * const dims = { B: 1, T: 2, H: 1, E: 1 };
 * const { z, lse } = attentionForward(qkv, dims);
 * const dqkv = attentionBackward({ qkv, z, lse, dz: new Float32Array([0, 1]) }, dims);
 * dqkv; // dv = [0.5, 0.5] at columns 2; dq[1] = (v - z)·P·k = 0 since k = 0
 * ```
 */
export function attentionBackward(
  { qkv, z, lse, dz }: { qkv: Float32Array; z: Float32Array; lse: Float32Array; dz: Float32Array },
  dims: AttentionDims,
): Float32Array {
  const { B, T, H, E } = dims;
  const HE = H * E;
  const ld = 3 * HE;
  const dqkv = new Float32Array(B * T * ld);
  const P = new Float32Array(Math.min(TILE, T) * T);
  const dS = new Float32Array(Math.min(TILE, T) * T);
  const delta = new Float64Array(T);
  const scale = 1 / Math.sqrt(E);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const head = { b, h, dims, qkv };
      const base = b * T * ld + h * E; // q of (b, 0, h); k at + HE, v at + 2·HE
      for (let i = 0; i < T; i++) {
        let s = 0;
        const at = (b * T + i) * HE + h * E;
        for (let e = 0; e < E; e++) s += dz[at + e]! * z[at + e]!;
        delta[i] = s;
      }
      for (let i0 = 0; i0 < T; i0 += TILE) {
        const rows = Math.min(TILE, T - i0);
        const keys = i0 + rows;
        tileScores(head, i0, rows, P);
        const dzTile = { data: dz, off: (b * T + i0) * HE + h * E, ld: HE };
        // dP = dz_tile @ v[0 : keys]ᵀ
        mm({ data: dS, ld: keys }, dzTile, { data: qkv, off: base + 2 * HE, ld, t: true }, {
          m: rows,
          k: E,
          n: keys,
        });
        for (let r = 0; r < rows; r++) {
          const row = r * keys;
          const last = i0 + r;
          const l = lse[(b * H + h) * T + last]!;
          for (let j = 0; j <= last; j++) P[row + j] = P[row + j]! * scale - l;
          P.fill(-Infinity, row + last + 1, row + keys);
        }
        expRange(P, 0, rows * keys); // the pattern, 0 where masked
        for (let r = 0; r < rows; r++) {
          const row = r * keys;
          const d = delta[i0 + r]!;
          for (let j = row; j < row + keys; j++) dS[j] = P[j]! * (dS[j]! - d) * scale;
        }
        // dv[0 : keys] += Pᵀ @ dz_tile
        mm({ data: dqkv, off: base + 2 * HE, ld }, { data: P, ld: keys, t: true }, dzTile, {
          m: keys,
          k: rows,
          n: E,
          accumulate: true,
        });
        // dq_tile = dS @ k[0 : keys]
        mm(
          { data: dqkv, off: base + i0 * ld, ld },
          { data: dS, ld: keys },
          { data: qkv, off: base + HE, ld },
          { m: rows, k: keys, n: E },
        );
        // dk[0 : keys] += dSᵀ @ q_tile
        mm(
          { data: dqkv, off: base + HE, ld },
          { data: dS, ld: keys, t: true },
          { data: qkv, off: base + i0 * ld, ld },
          { m: keys, k: rows, n: E, accumulate: true },
        );
      }
    }
  }
  return dqkv;
}

/** `out [rows, keys] = q[i0 : i0 + rows] @ k[0 : keys]ᵀ` of head h in row b, unscaled. */
function tileScores(
  { b, h, dims, qkv }: { b: number; h: number; dims: AttentionDims; qkv: Float32Array },
  i0: number,
  rows: number,
  out: Float32Array,
): void {
  const { T, H, E } = dims;
  const ld = 3 * H * E;
  const base = b * T * ld + h * E;
  mm(
    { data: out, ld: i0 + rows },
    { data: qkv, off: base + i0 * ld, ld },
    { data: qkv, off: base + H * E, ld, t: true },
    { m: rows, k: E, n: i0 + rows },
  );
}
