/**
 * A Hugging Face GPT-2 folder (`config.json` and `model.safetensors`, as the hub's `gpt2` page
 * serves them) read into TransformerLens' config fields and weight names, as
 * `HookedTransformer.from_pretrained_no_processing("gpt2")` holds them. Any model of the family
 * reads (n_layer, n_embd, n_head, n_positions up to 1,024, vocab_size, n_inner, gelu_new, gelu or
 * relu); anything else is refused in one line naming it.
 *
 * Hugging Face's layout: names with or without a `transformer.` prefix; Conv1D weights stored
 * `[in, out]` (y = x·W + b); `c_attn` packs Q, K and V side by side, each with its heads as
 * consecutive blocks of d_head; `lm_head.weight [V, D]` tied to `wte` when absent; the causal
 * mask buffers `h.i.attn.bias` and `h.i.attn.masked_bias` are not weights.
 *
 * Shape letters: V vocab_size, C n_positions, D n_embd, H n_head, E d_head, M d_mlp.
 *
 * @module
 */

import { join } from "node:path";
import { type ActFn, MAX_N_CTX, type ModelConfig, validateModelConfig } from "../model/config.ts";
import { LAYERNORM_EPS } from "../reference/layernorm.ts";
import { rearrange, slice, type Tensor, transpose, zeros } from "../tensor/mod.ts";
import { errorLine, RunInputError, shownValue } from "./run_error.ts";
import { readSafetensors } from "./safetensors.ts";

/** A GPT-2 read into TransformerLens' names: its config and its weights `Map`. */
export interface Gpt2Model {
  cfg: ModelConfig;
  weights: Map<string, Tensor>;
}

/** The activations GPT-2's `activation_function` may name here, by TransformerLens' `act_fn`. */
const ACTIVATIONS: Record<string, ActFn> = { gelu_new: "gelu_new", gelu: "gelu", relu: "relu" };

/**
 * Settings of Hugging Face's `GPT2Config` that change the model's arithmetic, with the value the
 * forward here implements: a file with another is refused rather than read wrong.
 */
const FIXED: Record<string, unknown> = {
  scale_attn_weights: true,
  scale_attn_by_inverse_layer_idx: false,
  add_cross_attention: false,
};

/**
 * The TransformerLens config of a GPT-2 `config.json` (parsed), or a one-line `RunInputError`
 * starting with `where` that names the field.
 *
 * @example
 * ```ts
 * import { gpt2Config } from "./hf_gpt2.ts";
 * const cfg = gpt2Config({
 *   model_type: "gpt2", n_layer: 12, n_embd: 768, n_head: 12, n_positions: 1024,
 *   vocab_size: 50257, n_inner: null, layer_norm_epsilon: 1e-5, activation_function: "gelu_new",
 * }, "gpt2/config.json");
 * [cfg.d_head, cfg.d_mlp, cfg.act_fn]; // [64, 3072, "gelu_new"]
 * ```
 */
export function gpt2Config(json: unknown, where: string): ModelConfig {
  const fail = (problem: string): never => {
    throw new RunInputError(`${where}: ${problem}`);
  };
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    fail(`must be a JSON object (got ${shownValue(json)})`);
  }
  const c = json as Record<string, unknown>;
  if (c.model_type !== undefined && c.model_type !== "gpt2") {
    fail(`model_type ${shownValue(c.model_type)} is not gpt2; mechlab imports GPT-2 models only`);
  }
  const int = (key: string, max = Infinity): number => {
    const v = c[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
      fail(`${key} must be an integer from 1 to ${max} (got ${shownValue(v)})`);
    }
    return v as number;
  };
  const [n_layers, d_model, n_heads] = [int("n_layer"), int("n_embd"), int("n_head")];
  const n_ctx = int("n_positions", MAX_N_CTX);
  const d_vocab = int("vocab_size");
  if (d_model % n_heads !== 0) fail(`n_embd ${d_model} is not a multiple of n_head ${n_heads}`);
  const d_mlp = c.n_inner === null || c.n_inner === undefined ? 4 * d_model : int("n_inner");
  const eps = c.layer_norm_epsilon ?? LAYERNORM_EPS;
  if (typeof eps !== "number" || !(eps > 0) || !Number.isFinite(eps)) {
    fail(`layer_norm_epsilon must be a positive number (got ${shownValue(eps)})`);
  }
  const act = c.activation_function ?? "gelu_new";
  const act_fn = typeof act === "string" ? ACTIVATIONS[act] : undefined;
  if (act_fn === undefined) {
    fail(`activation_function ${shownValue(act)}: expected ${Object.keys(ACTIVATIONS).join(", ")}`);
  }
  for (const [key, value] of Object.entries(FIXED)) {
    if (c[key] !== undefined && c[key] !== value) {
      fail(`${key} ${shownValue(c[key])}: mechlab's GPT-2 has ${value} only`);
    }
  }
  const range = c.initializer_range ?? 0.02;
  const cfg: ModelConfig = {
    n_layers,
    d_model,
    d_head: d_model / n_heads,
    n_heads,
    d_mlp,
    d_vocab,
    d_vocab_out: d_vocab,
    n_ctx,
    act_fn: act_fn!,
    normalization_type: "LN",
    attn_only: false,
    eps: eps as number,
    positional_embedding_type: "standard",
    // GPT-2's own (0.02): TransformerLens copies it from the Hugging Face config.
    initializer_range: typeof range === "number" && range > 0 ? range : 0.02,
    seed: 0,
    trainable_biases: "all",
  };
  try {
    validateModelConfig(cfg);
  } catch (e) {
    fail(errorLine(e));
  }
  return cfg;
}

/**
 * GPT-2's tensors (a `model.safetensors` decoded, names with or without `transformer.`) as
 * TransformerLens' weights for `cfg`: `W_Q|W_K|W_V [H, D, E]` cut from `c_attn`, `W_O [H, E, D]`,
 * `W_U [D, V]` from `lm_head` or `wte`, `b_U` zero (GPT-2 has none). A missing tensor, a wrong
 * shape or a tensor GPT-2 does not have is a one-line `RunInputError` starting with `where`.
 *
 * @example
 * ```ts ignore
 * const { tensors } = await readSafetensors("gpt2/model.safetensors");
 * gpt2Weights(cfg, tensors, "gpt2/model.safetensors").get("blocks.0.attn.W_Q")?.shape; // [12, 768, 64]
 * ```
 */
export function gpt2Weights(
  cfg: ModelConfig,
  tensors: Map<string, Tensor>,
  where: string,
): Map<string, Tensor> {
  const { n_layers: L, d_model: D, n_heads: H, d_mlp: M, d_vocab: V, n_ctx: C } = cfg;
  const prefix = tensors.has("transformer.wte.weight") ? "transformer." : "";
  const used = new Set<string>();
  const hf = (name: string, shape: number[]): Tensor => {
    const full = name === "lm_head.weight" ? name : prefix + name;
    const t = tensors.get(full);
    if (t === undefined) throw new RunInputError(`${where}: missing tensor ${full} [${shape}]`);
    if (t.shape.join() !== shape.join()) {
      throw new RunInputError(`${where}: ${full} has shape [${t.shape}], expected [${shape}]`);
    }
    used.add(full);
    return t;
  };
  const W = new Map<string, Tensor>();
  W.set("embed.W_E", hf("wte.weight", [V, D]));
  W.set("pos_embed.W_pos", hf("wpe.weight", [C, D]));
  const heads = (t: Tensor, pattern: string) => rearrange(t, pattern, { h: H });
  for (let l = 0; l < L; l++) {
    const [h, b] = [`h.${l}`, `blocks.${l}`];
    W.set(`${b}.ln1.w`, hf(`${h}.ln_1.weight`, [D])).set(`${b}.ln1.b`, hf(`${h}.ln_1.bias`, [D]));
    const qkv = hf(`${h}.attn.c_attn.weight`, [D, 3 * D]); // [D, 3·H·E]: Q | K | V
    const qkvBias = hf(`${h}.attn.c_attn.bias`, [3 * D]);
    ["Q", "K", "V"].forEach((n, i) => {
      const cols = `${i * D}:${(i + 1) * D}`;
      W.set(`${b}.attn.W_${n}`, heads(slice(qkv, `:, ${cols}`), "d (h e) -> h d e"));
      W.set(`${b}.attn.b_${n}`, heads(slice(qkvBias, cols), "(h e) -> h e"));
    });
    W.set(`${b}.attn.W_O`, heads(hf(`${h}.attn.c_proj.weight`, [D, D]), "(h e) d -> h e d"));
    W.set(`${b}.attn.b_O`, hf(`${h}.attn.c_proj.bias`, [D]));
    W.set(`${b}.ln2.w`, hf(`${h}.ln_2.weight`, [D])).set(`${b}.ln2.b`, hf(`${h}.ln_2.bias`, [D]));
    W.set(`${b}.mlp.W_in`, hf(`${h}.mlp.c_fc.weight`, [D, M]));
    W.set(`${b}.mlp.b_in`, hf(`${h}.mlp.c_fc.bias`, [M]));
    W.set(`${b}.mlp.W_out`, hf(`${h}.mlp.c_proj.weight`, [M, D]));
    W.set(`${b}.mlp.b_out`, hf(`${h}.mlp.c_proj.bias`, [D]));
    // The causal mask buffers of older files: not weights.
    for (const buffer of ["bias", "masked_bias"]) used.add(`${prefix}${h}.attn.${buffer}`);
  }
  W.set("ln_final.w", hf("ln_f.weight", [D])).set("ln_final.b", hf("ln_f.bias", [D]));
  // Tied to wte unless the file has its own lm_head.
  const unembed = tensors.has("lm_head.weight")
    ? hf("lm_head.weight", [V, D])
    : W.get("embed.W_E")!;
  W.set("unembed.W_U", transpose(unembed)); // [D, V]
  W.set("unembed.b_U", zeros([V], "f32")); // the file's dtype, as every other weight
  const extra = [...tensors.keys()].find((name) => !used.has(name));
  if (extra !== undefined) {
    throw new RunInputError(`${where}: tensor ${extra} is not a GPT-2 weight mechlab knows`);
  }
  return W;
}

/**
 * Reads the GPT-2 folder `dir` (`config.json`, `model.safetensors`) into TransformerLens' config
 * and weights, unprocessed; a missing or bad file is a one-line `RunInputError` naming it.
 *
 * @example
 * ```ts ignore
 * const { cfg, weights } = await readGpt2Folder("downloads/gpt2");
 * cfg.n_layers; // 12
 * ```
 */
export async function readGpt2Folder(dir: string): Promise<Gpt2Model> {
  const configPath = join(dir, "config.json");
  const weightsPath = join(dir, "model.safetensors");
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(configPath));
  } catch (e) {
    throw new RunInputError(`cannot read ${configPath}: ${errorLine(e)}`, { cause: e });
  }
  const cfg = gpt2Config(json, configPath);
  let tensors: Map<string, Tensor>;
  try {
    tensors = (await readSafetensors(weightsPath)).tensors;
  } catch (e) {
    throw new RunInputError(`cannot read ${weightsPath}: ${errorLine(e)}`, { cause: e });
  }
  return { cfg, weights: gpt2Weights(cfg, tensors, weightsPath) };
}
