/**
 * The transformer on the GPU: TransformerLens' forward, and its backward written out by hand, as
 * pre-bound dispatches over fixed buffers, so a training loop encodes a whole step (forward,
 * backward, AdamW) many times per submit. Activations live in buffers named by TransformerLens'
 * hook points (`blocks.0.attn.hook_pattern`), the one way to read them.
 *
 * Shape letters: B batch, T n_ctx, R = B·T rows, D d_model, H n_heads, E d_head, M d_mlp,
 * U d_vocab_out. Loss and logits are taken at the last position only, as every task scores it.
 *
 * @module
 */

import type { Dispatch, Gpu, GpuTensor } from "../gpu/mod.ts";
import {
  activationBackward,
  activationForward,
  addForward,
  addInplace,
  attentionBackward,
  attentionForward,
  crossEntropyEval,
  crossEntropyForward,
  embedBackward,
  embedForward,
  layernormBackward,
  layernormForward,
  matmul,
  sumRows,
  zeroFill,
} from "../../kernels/mod.ts";
import type { ModelConfig } from "./config.ts";
import type { ParamLayout } from "./params.ts";

/** A model bound to buffers for one batch size. */
export interface GpuModel {
  batch: number;
  /** `[B, T]` i32: the examples, written by the caller. */
  tokens: GpuTensor;
  /** `[B]` i32: the answer at the last position. */
  targets: GpuTensor;
  /** `[B]` f32, training only: each example's weight in the loss (1/B for a plain mean). */
  rowWeights: GpuTensor | undefined;
  /** `[B, U]`: logits at the last position. */
  logits: GpuTensor;
  /** `[B]`: each example's cross-entropy (natural log). */
  loss: GpuTensor;
  /** `[B]`, evaluation only: 1 where the argmax is the target. */
  correct: GpuTensor | undefined;
  /**
   * Activations by TransformerLens hook name (and `logits`). `blocks.L.hook_resid_pre` for L > 0
   * is the buffer of `blocks.L-1.hook_resid_post`, as the two hooks hold the same value.
   */
  hooks: Map<string, GpuTensor>;
  /**
   * Hook name (and `logits`) → how many dispatches of `forward` have run when its buffer holds
   * its final value and nothing has read it yet: where a hooked run splices an edit of it.
   */
  hookEnds: Map<string, number>;
  /** Tokens to loss (and `correct` when evaluating). */
  forward: Dispatch[];
  /** Loss to every weight's gradient, in `grads` (training only; empty otherwise). */
  backward: Dispatch[];
  /** Frees the activation buffers (not the weights or gradients). */
  release(): void;
}

/** What a model is built over: its weights and, to train, where gradients go. */
export interface GpuModelOptions {
  batch: number;
  /** `[P]` flat weights in `layout`. */
  params: GpuTensor;
  /** `[P]` flat gradients in `layout`: given, the model trains (backward and fused loss). */
  grads?: GpuTensor;
}

/**
 * Builds the forward (and, with `grads`, backward) dispatches of `cfg` for batches of `batch`.
 *
 * @example
 * ```ts ignore
 * const model = await buildGpuModel(gpu, cfg, layout, { batch: 3830, params, grads });
 * gpu.write(model.tokens, tokens);
 * gpu.run([...model.forward, ...model.backward]);
 * ```
 */
export async function buildGpuModel(
  gpu: Gpu,
  cfg: ModelConfig,
  layout: ParamLayout,
  options: GpuModelOptions,
): Promise<GpuModel> {
  const { batch: B, params, grads } = options;
  const { n_ctx: T, d_model: D, n_heads: H, d_head: E, d_mlp: M, d_vocab_out: U } = cfg;
  const R = B * T;
  const LN = cfg.normalization_type === "LN";
  const biases = cfg.trainable_biases === "all"; // else b_Q, b_K, b_V, b_O, b_U stay exactly 0
  const owned: GpuTensor[] = [];
  const hooks = new Map<string, GpuTensor>();
  const fresh = (shape: number[], dtype: "f32" | "i32" = "f32") => {
    const t = gpu.empty(shape, dtype);
    owned.push(t);
    return t;
  };
  const hook = (name: string, shape: number[]) => {
    const t = fresh(shape);
    hooks.set(name, t);
    return t;
  };
  const weight = (flat: GpuTensor, name: string, shape?: number[]) => {
    const spec = layout.byName.get(name);
    if (spec === undefined) throw new RangeError(`the model has no weight ${name}`);
    return flat.view(spec.offset, shape ?? spec.shape);
  };
  const W = (name: string, shape?: number[]) => weight(params, name, shape);
  const rows = (t: GpuTensor, cols: number) => t.view(0, [t.size / cols, cols]);
  const fwd: Dispatch[] = [];
  const add = async (list: Dispatch[], ds: Promise<Dispatch[]>) => list.push(...await ds);
  const hookEnds = new Map<string, number>();
  /** The hooks `names` are final: the forward dispatches so far wrote them. */
  const done = (...names: string[]) => names.forEach((n) => hookEnds.set(n, fwd.length));

  // ---- forward ----
  const tokens = fresh([B, T], "i32");
  const targets = fresh([B], "i32");
  let resid = hook("blocks.0.hook_resid_pre", [B, T, D]); // hook_embed + hook_pos_embed
  await add(
    fwd,
    embedForward(gpu, { tokens, W_E: W("embed.W_E"), W_pos: W("pos_embed.W_pos") }, resid),
  );
  done("blocks.0.hook_resid_pre");

  /** LayerNorm `name` of `x` when the model has them, else `x` itself. */
  const norm = async (name: string, x: GpuTensor) => {
    if (!LN) return { y: x, saved: undefined };
    const out = {
      y: hook(`${name}.hook_normalized`, [...x.shape]),
      mean: fresh(x.shape.slice(0, -1)),
      scale: fresh(x.shape.slice(0, -1)),
    };
    hooks.set(`${name}.hook_scale`, out.scale.view(0, [...x.shape.slice(0, -1), 1])); // as TL
    await add(fwd, layernormForward(gpu, x, W(`${name}.w`), W(`${name}.b`), out));
    done(`${name}.hook_scale`, `${name}.hook_normalized`);
    return { y: out.y, saved: out };
  };

  interface Layer {
    resid: GpuTensor; // resid_pre
    ln1: Awaited<ReturnType<typeof norm>>;
    qkv: { q: GpuTensor; k: GpuTensor; v: GpuTensor };
    pattern: GpuTensor;
    z: GpuTensor;
    mid: GpuTensor;
    mlp?: { ln2: Awaited<ReturnType<typeof norm>>; pre: GpuTensor; post: GpuTensor };
  }
  const layers: Layer[] = [];
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}`;
    if (l > 0) {
      hooks.set(`${b}.hook_resid_pre`, resid);
      done(`${b}.hook_resid_pre`);
    }
    const ln1 = await norm(`${b}.ln1`, resid);
    const qkv = {
      q: hook(`${b}.attn.hook_q`, [B, T, H, E]),
      k: hook(`${b}.attn.hook_k`, [B, T, H, E]),
      v: hook(`${b}.attn.hook_v`, [B, T, H, E]),
    };
    for (const [x, out] of Object.entries(qkv)) {
      // Per head h: out[:, h, :] = x·W[h], written straight into [B, T, H, E].
      const X = x.toUpperCase();
      await add(
        fwd,
        matmul(gpu, { tensor: ln1.y, batchStride: 0 }, W(`${b}.attn.W_${X}`), {
          tensor: out,
          ld: H * E,
          batchStride: E,
        }, { m: R, n: E, k: D, batch: H }),
      );
      if (biases) await add(fwd, addInplace(gpu, out, W(`${b}.attn.b_${X}`)));
      done(`${b}.attn.hook_${x}`);
    }
    const pattern = hook(`${b}.attn.hook_pattern`, [B, H, T, T]);
    const z = hook(`${b}.attn.hook_z`, [B, T, H, E]);
    await add(fwd, attentionForward(gpu, qkv, { pattern, z }));
    done(`${b}.attn.hook_pattern`, `${b}.attn.hook_z`);
    const attnOut = hook(`${b}.hook_attn_out`, [B, T, D]);
    // Σ_h z[h]·W_O[h] is one product: W_O [H, E, D] is [(H E), D].
    await add(fwd, matmul(gpu, rows(z, H * E), W(`${b}.attn.W_O`, [H * E, D]), rows(attnOut, D)));
    if (biases) await add(fwd, addInplace(gpu, attnOut, W(`${b}.attn.b_O`)));
    done(`${b}.hook_attn_out`);
    // An attention-only block has no resid_mid in TransformerLens: its sum is resid_post.
    const mid = hook(`${b}.hook_resid_${cfg.attn_only ? "post" : "mid"}`, [B, T, D]);
    await add(fwd, addForward(gpu, resid, attnOut, mid));
    done(`${b}.hook_resid_${cfg.attn_only ? "post" : "mid"}`);
    const layer: Layer = { resid, ln1, qkv, pattern, z, mid };
    resid = mid;
    if (!cfg.attn_only) {
      const ln2 = await norm(`${b}.ln2`, mid);
      const pre = hook(`${b}.mlp.hook_pre`, [B, T, M]);
      const post = hook(`${b}.mlp.hook_post`, [B, T, M]);
      const mlpOut = hook(`${b}.hook_mlp_out`, [B, T, D]);
      await add(fwd, matmul(gpu, rows(ln2.y, D), W(`${b}.mlp.W_in`), rows(pre, M)));
      await add(fwd, addInplace(gpu, pre, W(`${b}.mlp.b_in`)));
      done(`${b}.mlp.hook_pre`);
      await add(fwd, activationForward(gpu, pre, post, { act: cfg.act_fn }));
      done(`${b}.mlp.hook_post`);
      await add(fwd, matmul(gpu, rows(post, M), W(`${b}.mlp.W_out`), rows(mlpOut, D)));
      await add(fwd, addInplace(gpu, mlpOut, W(`${b}.mlp.b_out`)));
      done(`${b}.hook_mlp_out`);
      resid = hook(`${b}.hook_resid_post`, [B, T, D]);
      await add(fwd, addForward(gpu, mid, mlpOut, resid));
      done(`${b}.hook_resid_post`);
      layer.mlp = { ln2, pre, post };
    }
    layers.push(layer);
  }
  const final = await norm("ln_final", resid);
  // The scored position of each example: rows T-1, 2T-1, ... of [R, D].
  const last = { tensor: final.y, offset: (T - 1) * D, ld: T * D };
  const logits = fresh([B, U]);
  hooks.set("logits", logits);
  await add(fwd, matmul(gpu, last, W("unembed.W_U"), logits, { m: B, n: U, k: D }));
  if (biases) await add(fwd, addInplace(gpu, logits, W("unembed.b_U")));
  done("logits");
  const loss = fresh([B]);

  const release = () => owned.forEach((t) => t.release());
  if (grads === undefined) {
    const correct = fresh([B]);
    await add(fwd, crossEntropyEval(gpu, { logits, targets }, { loss, correct }));
    return {
      batch: B,
      tokens,
      targets,
      rowWeights: undefined,
      logits,
      loss,
      correct,
      hooks,
      hookEnds,
      forward: fwd,
      backward: [],
      release,
    };
  }

  // ---- backward: each layer's gradient in reverse, beside the forward above ----
  const G = (name: string, shape?: number[]) => weight(grads, name, shape);
  const rowWeights = fresh([B]);
  const dlogits = fresh([B, U]);
  await add(
    fwd,
    crossEntropyForward(gpu, { logits, targets, weights: rowWeights }, { loss, dlogits }),
  );
  const bwd: Dispatch[] = [];
  if (biases) await add(bwd, sumRows(gpu, dlogits, G("unembed.b_U")));
  await add(bwd, matmul(gpu, last, dlogits, G("unembed.W_U"), { m: D, n: U, k: B, transA: true }));
  // Only the scored position gets a gradient from the unembed; the other rows start at zero.
  const dFinal = fresh([B, T, D]);
  await add(bwd, zeroFill(gpu, dFinal));
  await add(
    bwd,
    matmul(gpu, dlogits, W("unembed.W_U"), { tensor: dFinal, offset: (T - 1) * D, ld: T * D }, {
      m: B,
      n: D,
      k: U,
      transB: true,
    }),
  );
  const dx = fresh([B, T, D]); // a LayerNorm's or sublayer's input gradient, before it joins dresid
  /** dresid += the gradient that reaches `x` through LayerNorm `name` from `dy`. */
  const normBackward = async (
    name: string,
    x: GpuTensor,
    n: Awaited<ReturnType<typeof norm>>,
    dy: GpuTensor,
    dresid: GpuTensor,
  ) => {
    if (n.saved === undefined) {
      await add(bwd, addInplace(gpu, dresid, dy));
      return;
    }
    const lnGrads = { dx, dw: G(`${name}.w`), db: G(`${name}.b`) };
    await add(bwd, layernormBackward(gpu, x, W(`${name}.w`), n.saved, dy, lnGrads));
    await add(bwd, addInplace(gpu, dresid, dx));
  };
  let dresid = dFinal;
  if (final.saved !== undefined) {
    dresid = fresh([B, T, D]);
    await add(bwd, zeroFill(gpu, dresid));
    await normBackward("ln_final", resid, final, dFinal, dresid);
  }
  const dpost = cfg.attn_only ? undefined : fresh([B, T, M]);
  const dpre = cfg.attn_only ? undefined : fresh([B, T, M]);
  const dSub = fresh([B, T, D]); // a sublayer's input gradient
  const dz = fresh([B, T, H, E]);
  const dqkv = { dq: fresh([B, T, H, E]), dk: fresh([B, T, H, E]), dv: fresh([B, T, H, E]) };
  const dxParts = fresh([3, H, R, D]); // each head's q, k and v paths into the residual
  for (let l = cfg.n_layers - 1; l >= 0; l--) {
    const b = `blocks.${l}`;
    const layer = layers[l]!;
    if (layer.mlp !== undefined) {
      // resid_post = mid + post·W_out + b_out, post = act(ln2(mid)·W_in + b_in)
      const { ln2, pre, post } = layer.mlp;
      await add(bwd, sumRows(gpu, dresid, G(`${b}.mlp.b_out`)));
      await add(
        bwd,
        matmul(gpu, rows(post, M), rows(dresid, D), G(`${b}.mlp.W_out`), { transA: true }),
      );
      await add(
        bwd,
        matmul(gpu, rows(dresid, D), W(`${b}.mlp.W_out`), rows(dpost!, M), { transB: true }),
      );
      await add(bwd, activationBackward(gpu, pre, dpost!, dpre!, { act: cfg.act_fn }));
      await add(bwd, sumRows(gpu, dpre!, G(`${b}.mlp.b_in`)));
      await add(
        bwd,
        matmul(gpu, rows(ln2.y, D), rows(dpre!, M), G(`${b}.mlp.W_in`), { transA: true }),
      );
      await add(
        bwd,
        matmul(gpu, rows(dpre!, M), W(`${b}.mlp.W_in`), rows(dSub, D), { transB: true }),
      );
      await normBackward(`${b}.ln2`, layer.mid, ln2, dSub, dresid);
    }
    // mid = resid_pre + Σ_h z[h]·W_O[h] + b_O
    if (biases) await add(bwd, sumRows(gpu, dresid, G(`${b}.attn.b_O`)));
    await add(
      bwd,
      matmul(gpu, rows(layer.z, H * E), rows(dresid, D), G(`${b}.attn.W_O`, [H * E, D]), {
        transA: true,
      }),
    );
    await add(
      bwd,
      matmul(gpu, rows(dresid, D), W(`${b}.attn.W_O`, [H * E, D]), rows(dz, H * E), {
        transB: true,
      }),
    );
    await add(
      bwd,
      attentionBackward(
        gpu,
        { ...layer.qkv, pattern: layer.pattern, dz },
        dqkv,
      ),
    );
    for (const [i, X] of ["Q", "K", "V"].entries()) {
      const d = [dqkv.dq, dqkv.dk, dqkv.dv][i]!;
      const perHead = { tensor: d, ld: H * E, batchStride: E }; // head h of [R, H, E]
      if (biases) await add(bwd, sumRows(gpu, d, G(`${b}.attn.b_${X}`)));
      // dW[h] = xᵀ·d[:, h, :]
      await add(
        bwd,
        matmul(gpu, { tensor: layer.ln1.y, batchStride: 0 }, perHead, G(`${b}.attn.W_${X}`), {
          m: D,
          n: E,
          k: R,
          batch: H,
          transA: true,
        }),
      );
      // dx from head h: d[:, h, :]·W[h]ᵀ, one partial per (path, head), summed below in order.
      await add(
        bwd,
        matmul(gpu, perHead, W(`${b}.attn.W_${X}`), {
          tensor: dxParts,
          offset: i * H * R * D,
          batchStride: R * D,
        }, { m: R, n: D, k: E, batch: H, transB: true }),
      );
    }
    await add(bwd, sumRows(gpu, dxParts, dSub));
    await normBackward(`${b}.ln1`, layer.resid, layer.ln1, dSub, dresid);
  }
  await add(
    bwd,
    embedBackward(gpu, { tokens, dresid }, { dW_E: G("embed.W_E"), dW_pos: G("pos_embed.W_pos") }),
  );
  return {
    batch: B,
    tokens,
    targets,
    rowWeights,
    logits,
    loss,
    correct: undefined,
    hooks,
    hookEnds,
    forward: fwd,
    backward: bwd,
    release,
  };
}
