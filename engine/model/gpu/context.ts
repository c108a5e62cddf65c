/**
 * What every piece of the GPU model is built over: the device, the config, the weights (and
 * gradients) as views of their flat buffers, the buffers it allocates, and the two dispatch lists
 * the pieces append to, forward in forward order and backward in backward order.
 *
 * Shape letters, for every file in this folder: B batch, T n_ctx (positions), R = B·T rows,
 * S scored rows (B when only each example's last position is scored, else R), D d_model, H n_heads, E d_head, M d_mlp, V d_vocab, U d_vocab_out, P all weights, flat.
 *
 * Members (G > 1): G models of one shape trained together (`engine/train/group_trainer.ts`). The
 * weights are G members' [P] one after another, and the batch is G members' B / G examples each:
 * B, R and S count all of them, `Bm`, `Rm` and `Sm` one member's. What has no weights (attention's
 * core, activations, the loss) sees one batch of B; a product with a weight runs per member
 * (`w`, `dw`, `rows`, `mm`), as do the biases' adds and sums.
 *
 * @module
 */

import { type Dispatch, type Gpu, type GpuTensor, releaseDispatches } from "../../gpu/mod.ts";
import { type MatmulOperand, type MatmulOptions, sumRows } from "../../../kernels/mod.ts";
import type { ModelConfig } from "../config.ts";
import type { ParamLayout } from "../params.ts";

/** What a context is built over. */
export interface ModelContextOptions {
  cfg: ModelConfig;
  layout: ParamLayout;
  batch: number;
  /** `[P]` flat weights in `layout`. */
  params: GpuTensor;
  /** `[P]` flat gradients in `layout`: given, the model trains. */
  grads?: GpuTensor | undefined;
  /**
   * Which positions get logits and a loss: `last`, each example's last (the one-answer tasks:
   * the unembedding then reads B rows, not B·T), or `all` (default `last`).
   */
  scored?: "last" | "all" | undefined;
  /**
   * Whether each layer keeps `hook_pattern` `[B, H, T, T]`: false by default, so attention runs
   * tiled (`flash_attention.wgsl`) and nothing of T × T exists; true where a hook asks for it.
   */
  pattern?: boolean | undefined;
  /** Models trained together, G (default 1): `batch` is all of theirs, `params` G × [P]. */
  members?: number | undefined;
  /** Only the loss (and gradients) will be read: see `ModelContext.tailAtLast`. */
  lossOnly?: boolean | undefined;
}

/**
 * The shared state of one model's build: pieces allocate through it, name their hook buffers in
 * it, and append their dispatches to `forward` and `backward`.
 *
 * @example
 * ```ts ignore
 * const c = new ModelContext(gpu, { cfg, layout, batch: 64, params, grads });
 * const resid = await embed.forward(c, c.fresh([c.B, c.T], "i32"));
 * ```
 */
export class ModelContext {
  readonly gpu: Gpu;
  readonly cfg: ModelConfig;
  readonly B: number;
  /** Members trained together, and one member's examples, rows and scored rows. */
  readonly G: number;
  readonly Bm: number;
  readonly Rm: number;
  readonly Sm: number;
  /** A member's weights' stride in the flat buffers: P. */
  readonly PS: number;
  readonly T: number;
  readonly R: number;
  readonly S: number;
  /** Logits and loss at each example's last position only, or at every position. */
  readonly scored: "last" | "all";
  readonly D: number;
  readonly H: number;
  readonly E: number;
  readonly M: number;
  readonly U: number;
  /** b_Q, b_K, b_V, b_O and b_U train; else they stay exactly 0 and no dispatch touches them. */
  readonly biases: boolean;
  /** Each layer's `hook_pattern` is kept (`attention.wgsl`); else attention is tiled, no T × T. */
  readonly pattern: boolean;
  /**
   * A loss-only model (training, evaluation) that scores each example's last position, T > 1,
   * with an MLP: its last block's ln2 and MLP, ln_final and the unembedding run on that position
   * alone (`[B, 1, D]`), as nothing else they compute reaches the loss. A one-layer model at
   * n_ctx 3 (grokking's) does 0.57 of the forward's multiply-adds. Its hooks from the last block's
   * ln2 on hold that position only.
   */
  readonly tailAtLast: boolean;
  /**
   * `[T, D]` (or any suffix of `[B, T, D]`): what a shortformer model adds to every layer's query
   * and key inputs (`W_pos`; a decoding step's row of it, set by `engine/sample/gpu_cached.ts`);
   * `undefined` in a standard model, whose positions are in the residual stream. With it, the
   * backward also accumulates W_pos's gradient from each layer's q and k.
   */
  positions: GpuTensor | undefined;
  /** Activations by TransformerLens hook name (and `logits`). */
  readonly hooks: Map<string, GpuTensor> = new Map();
  /** Hook name → the length of `forward` once its buffer is final (see `GpuModel.hookEnds`). */
  readonly hookEnds: Map<string, number> = new Map();
  /**
   * Hook name → the buffer of its activation's gradient and the length of `backward` once that
   * holds it (see `GpuModel.gradHooks`).
   */
  readonly gradHooks: Map<string, { buffer: GpuTensor; end: number }> = new Map();
  /** Tokens to loss, in order. */
  readonly forward: Dispatch[] = [];
  /** Loss to every weight's gradient, in order. */
  readonly backward: Dispatch[] = [];
  readonly #layout: ParamLayout;
  readonly #params: GpuTensor;
  readonly #grads: GpuTensor | undefined;
  readonly #owned: GpuTensor[] = [];
  readonly #scratch = new Map<string, GpuTensor>();

  constructor(gpu: Gpu, options: ModelContextOptions) {
    const { cfg } = options;
    this.gpu = gpu;
    this.cfg = cfg;
    this.B = options.batch;
    this.T = cfg.n_ctx;
    this.R = this.B * this.T;
    this.scored = options.scored ?? "last";
    this.S = this.scored === "last" ? this.B : this.R;
    this.D = cfg.d_model;
    this.H = cfg.n_heads;
    this.E = cfg.d_head;
    this.M = cfg.d_mlp;
    this.U = cfg.d_vocab_out;
    this.biases = cfg.trainable_biases === "all";
    this.pattern = options.pattern ?? false;
    this.tailAtLast = options.lossOnly === true && tailAtLast(cfg, this.scored);
    this.G = options.members ?? 1;
    if (this.B % this.G !== 0) {
      throw new RangeError(`${this.B} examples do not split into ${this.G} members`);
    }
    this.Bm = this.B / this.G;
    this.Rm = this.R / this.G;
    this.Sm = this.S / this.G;
    this.PS = options.layout.size;
    this.#layout = options.layout;
    this.#params = options.params;
    this.#grads = options.grads;
    const shortformer = cfg.positional_embedding_type === "shortformer";
    if (shortformer && this.G > 1) {
      throw new RangeError(`a shortformer model trains one member at a time (members ${this.G})`);
    }
    this.positions = shortformer ? this.param("pos_embed.W_pos") : undefined;
  }

  /** Whether gradients are wanted: the loss is fused with its gradient and `backward` is built. */
  get training(): boolean {
    return this.#grads !== undefined;
  }

  /** A new buffer that `release` frees. */
  fresh(shape: number[], dtype: "f32" | "i32" = "f32"): GpuTensor {
    const t = this.gpu.empty(shape, dtype);
    this.#owned.push(t);
    return t;
  }

  /** A new buffer holding hook `name`'s activation. */
  hook(name: string, shape: number[]): GpuTensor {
    const t = this.fresh(shape);
    this.hooks.set(name, t);
    return t;
  }

  /**
   * The backward buffer `key` of `shape`, one for the whole model: every layer's backward reuses
   * it, as the layers' backwards run one after another (a last block at the last position alone
   * gets its own, of its shape).
   */
  scratch(key: string, shape: number[]): GpuTensor {
    const sized = `${key} [${shape}]`;
    let t = this.#scratch.get(sized);
    if (t === undefined) {
      t = this.fresh(shape);
      this.#scratch.set(sized, t);
    }
    return t;
  }

  /** Whether block `block` (`blocks.1`) runs its MLP at the last position alone (`tailAtLast`). */
  atLast(block: string): boolean {
    return this.tailAtLast && block === `blocks.${this.cfg.n_layers - 1}`;
  }

  /** The `[n, n]` identity, uploaded once per model (the attention backward's transposes). */
  eye(n: number): GpuTensor {
    const key = `eye.${n}`;
    let t = this.#scratch.get(key);
    if (t === undefined) {
      const ones = new Float32Array(n * n);
      for (let i = 0; i < n; i++) ones[i * n + i] = 1;
      t = this.gpu.upload(ones, [n, n]);
      this.#owned.push(t);
      this.#scratch.set(key, t);
    }
    return t;
  }

  /** Weight `name`, as `shape` (its own by default). */
  param(name: string, shape?: number[]): GpuTensor {
    return this.#view(this.#params, name, shape);
  }

  /** Weight `name`'s gradient, as `shape` (its own by default). */
  grad(name: string, shape?: number[]): GpuTensor {
    if (this.#grads === undefined) {
      throw new Error(`the model is not training: no gradient ${name}`);
    }
    return this.#view(this.#grads, name, shape);
  }

  /** The members as add's and embed's kernels take them: their count and weights' stride. */
  get members(): { count: number; stride: number } {
    return { count: this.G, stride: this.PS };
  }

  /** Weight `name` as a product's operand: every member's (member 0's view, strided). */
  w(name: string, shape?: number[]): GpuTensor | MatmulOperand {
    const t = this.param(name, shape);
    return this.G === 1 ? t : { tensor: t, memberStride: this.PS };
  }

  /** Weight `name`'s gradient as a product's operand, every member's. */
  dw(name: string, shape?: number[]): GpuTensor | MatmulOperand {
    const t = this.grad(name, shape);
    return this.G === 1 ? t : { tensor: t, memberStride: this.PS };
  }

  /**
   * An activation (or a strided window of one: a head, the scored rows) as a product's operand:
   * each member's share of it. For `t` a tensor, as a matrix of `cols` columns.
   */
  rows(t: GpuTensor | MatmulOperand, cols?: number): GpuTensor | MatmulOperand {
    const op = "tensor" in t ? t : { tensor: cols === undefined ? t : rows(t, cols) };
    if (this.G === 1) return "tensor" in t ? t : op.tensor;
    const share = op.tensor.size / this.G;
    if (cols === undefined || "tensor" in t) return { ...op, memberStride: share };
    return { tensor: op.tensor.view(0, [share / cols, cols]), memberStride: share };
  }

  /** `t` as a product's operand that every member reads alike (a constant: the identity). */
  shared(t: GpuTensor): GpuTensor | MatmulOperand {
    return this.G === 1 ? t : { tensor: t, memberStride: 0 };
  }

  /** A product's options with the members added (sizes are one member's). */
  mm(options: MatmulOptions = {}): MatmulOptions {
    return this.G === 1 ? options : { ...options, members: this.G };
  }

  /**
   * Bias `name`'s gradient (overwritten): the sum of `dy`'s rows, each member's own, in the order
   * of one model's sum.
   */
  async biasGrad(dy: GpuTensor, name: string): Promise<void> {
    await this.bwd(sumRows(this.gpu, dy, this.grad(name), this.members));
  }

  /** Appends `ds` to `forward`. */
  async fwd(ds: Promise<Dispatch[]>): Promise<void> {
    this.forward.push(...await ds);
  }

  /** Appends `ds` to `backward`. */
  async bwd(ds: Promise<Dispatch[]>): Promise<void> {
    this.backward.push(...await ds);
  }

  /** The hooks `names` are final: the forward dispatches so far wrote them. */
  done(...names: string[]): void {
    for (const n of names) this.hookEnds.set(n, this.forward.length);
  }

  /** `buffer` holds hook `name`'s gradient now: the backward dispatches so far wrote it. */
  gradDone(name: string, buffer: GpuTensor): void {
    this.gradHooks.set(name, { buffer, end: this.backward.length });
  }

  /**
   * Frees the buffers the build allocated, its dispatches' scratch among them (the attention
   * backward's), not the weights or gradients.
   */
  release(): void {
    for (const t of this.#owned) t.release();
    releaseDispatches(this.forward);
    releaseDispatches(this.backward);
  }

  #view(flat: GpuTensor, name: string, shape: number[] | undefined): GpuTensor {
    const spec = this.#layout.byName.get(name);
    if (spec === undefined) throw new RangeError(`the model has no weight ${name}`);
    return flat.view(spec.offset, shape ?? spec.shape);
  }
}

/**
 * Whether a loss-only model of `cfg` scoring `scored` positions runs its last block's ln2 and MLP
 * at the last position alone (`ModelContext.tailAtLast`): one position scored of several, an MLP.
 *
 * @example
 * ```ts ignore
 * tailAtLast(grokking.model, "last"); // true: n_ctx 3, an MLP
 * ```
 */
export function tailAtLast(cfg: ModelConfig, scored: "last" | "all"): boolean {
  return scored === "last" && cfg.n_ctx > 1 && !cfg.attn_only;
}

/**
 * `t` as a matrix of `cols` columns: `[B, T, D]` as `[R, D]`.
 *
 * @example
 * ```ts ignore
 * rows(resid, c.D); // [R, D]
 * ```
 */
export function rows(t: GpuTensor, cols: number): GpuTensor {
  return t.view(0, [t.size / cols, cols]);
}
