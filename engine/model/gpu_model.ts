/**
 * The transformer on the GPU: TransformerLens' forward, and its backward written out by hand, as
 * pre-bound dispatches over fixed buffers, so a training loop encodes a whole step (forward,
 * backward, AdamW) many times per submit. Activations live in buffers named by TransformerLens'
 * hook points (`blocks.0.attn.hook_z`), the one way to read them; `hook_pattern` has a buffer
 * only in a model built with `pattern: true`.
 *
 * This file composes the pieces in `gpu/`, one per component, each with its forward and backward
 * side by side: `embed`, `block` (`layernorm`, `attention`, `mlp`), `unembed`, `loss`;
 * `gpu/context.ts` is what they share and fixes the shape letters. Loss and logits are taken at
 * the scored positions: each example's last only (S = B rows) or all of them (S = B·T).
 *
 * @module
 */

import type { Dispatch, Gpu, GpuTensor } from "../gpu/mod.ts";
import { zeroFill } from "../../kernels/mod.ts";
import type { ModelConfig } from "./config.ts";
import * as block from "./gpu/block.ts";
import { ModelContext } from "./gpu/context.ts";
import * as embed from "./gpu/embed.ts";
import * as layernorm from "./gpu/layernorm.ts";
import * as loss from "./gpu/loss.ts";
import * as unembed from "./gpu/unembed.ts";
import type { ParamLayout } from "./params.ts";

/** A model bound to buffers for one batch size. */
export interface GpuModel {
  batch: number;
  /** `[B, T]` i32: the examples, written by the caller. */
  tokens: GpuTensor;
  /** `[S]` i32: the target of each scored position (`IGNORE` for none), written by the caller. */
  targets: GpuTensor;
  /**
   * `[B]` f32, training only: the weight in the loss of each scored position of an example (1/B
   * for a plain mean of one answer per example).
   */
  rowWeights: GpuTensor | undefined;
  /** `[S, U]`: logits at the scored positions. */
  logits: GpuTensor;
  /**
   * `[S, U]`, training only: the loss's gradient with respect to the logits, written by
   * `forward` and read by `backward` (a caller may overwrite it in between: another metric's).
   */
  dlogits: GpuTensor | undefined;
  /** `[S]`: each scored position's cross-entropy (natural log; 0 at `IGNORE`). */
  loss: GpuTensor;
  /** `[S]`, evaluation only: 1 where the argmax is the target. */
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
  /**
   * Training only: hook name → the buffer that holds its activation's gradient once the first
   * `end` dispatches of `backward` have run, until the next ones overwrite it (every layer's
   * residual hooks share one buffer): `blocks.L.hook_resid_pre|mid|post`, `hook_attn_out`,
   * `hook_mlp_out` `[B, T, D]` and `blocks.L.attn.hook_z` `[B, T, H, E]`.
   */
  gradHooks: Map<string, { buffer: GpuTensor; end: number }>;
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
  /** Logits and loss at each example's `last` position (S = B) or at `all` (S = B·T). */
  scored?: "last" | "all";
  /**
   * Keep each layer's `hook_pattern` `[B, H, T, T]` (the materialising attention kernel): only
   * for a hooked run that reads it. Without it (training, evaluation, every other hook), attention
   * is tiled and allocates nothing of T × T (`gpu/attention.ts`).
   */
  pattern?: boolean;
  /**
   * Only the loss (and gradients) will be read, not the hooks (training, evaluation): where each
   * example's last position alone is scored, the last block's ln2 and MLP run there alone
   * (`ModelContext.tailAtLast`), and its hooks from ln2 on are `[B, 1, ·]`.
   */
  lossOnly?: boolean;
  /**
   * Models of this shape trained together (default 1): `batch` counts all their examples and
   * `params`, `grads` hold G × [P] (`gpu/context.ts`). Not with LayerNorm.
   */
  members?: number;
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
  if ((options.members ?? 1) > 1 && cfg.normalization_type !== null) {
    throw new RangeError("models trained together cannot have LayerNorm");
  }
  const c = new ModelContext(gpu, { cfg, layout, ...options });
  const { B, T, D } = c;

  // ---- forward ----
  const tokens = c.fresh([B, T], "i32"); // [B, T]
  const targets = c.fresh([c.S], "i32"); // [S]
  let resid = await embed.forward(c, tokens); // [B, T, D]
  const blocks: block.Block[] = [];
  for (let l = 0; l < cfg.n_layers; l++) {
    const name = `blocks.${l}`;
    if (l > 0) {
      c.hooks.set(`${name}.hook_resid_pre`, resid);
      c.done(`${name}.hook_resid_pre`);
    }
    const b = await block.forward(c, name, resid);
    blocks.push(b);
    resid = b.out;
  }
  const final = await layernorm.forward(c, "ln_final", resid);
  const logits = await unembed.forward(c, final.y); // [S, U]
  const scored = await loss.forward(c, { logits, targets });
  const model: GpuModel = {
    batch: B,
    tokens,
    targets,
    rowWeights: scored.rowWeights,
    logits,
    dlogits: scored.dlogits,
    loss: scored.loss,
    correct: scored.correct,
    hooks: c.hooks,
    hookEnds: c.hookEnds,
    gradHooks: c.gradHooks,
    forward: c.forward,
    backward: c.backward,
    release: () => c.release(),
  };
  if (scored.dlogits === undefined) return model;

  // ---- backward: each piece's gradient in reverse ----
  const dFinal = await unembed.backward(c, final.y, scored.dlogits); // [B, T, D]
  let dresid = dFinal; // [B, T, D]: the residual stream's gradient, accumulated
  if (final.saved !== undefined) {
    dresid = c.fresh([...final.x.shape]); // [B, T, D] (or [B, 1, D])
    await c.bwd(zeroFill(gpu, dresid));
    await layernorm.backward(c, "ln_final", final, dFinal, dresid);
  }
  const dSub = c.fresh([B, T, D]); // a sublayer's input gradient, before it joins dresid
  // A shortformer's W_pos gradient is the sum of every layer's q and k share (attention.backward)
  if (c.positions !== undefined) await c.bwd(zeroFill(gpu, c.grad("pos_embed.W_pos")));
  for (let l = cfg.n_layers - 1; l >= 0; l--) {
    dresid = await block.backward(c, `blocks.${l}`, blocks[l]!, { dresid, dSub });
  }
  await embed.backward(c, tokens, dresid);
  return model;
}
