// A tiny random GPT-2 in Hugging Face's layout (`config.json` + `model.safetensors`, the hub's
// bare names, `lm_head` tied to `wte`) written into a temporary folder, for tests that need the
// real vocabulary of 50,257 tokens (so GPT-2's tokenizer applies) without committing megabytes.
// The weights are drawn with a wide spread (std 0.3, LayerNorm weights about 1) so that the
// patterns and losses are far from uniform; the tests compare mechlab with itself (page against
// server), not against these numbers.
import * as assert from "node:assert/strict";
import { encodeSafetensors } from "../../engine/runs/safetensors.ts";
import { randn, type Tensor } from "../../engine/tensor/mod.ts";
import { mechlab } from "../helpers.ts";

/** The tiny model's shape: GPT-2's vocabulary, everything else small. */
export const TINY_GPT2 = { n_layer: 2, n_embd: 8, n_head: 2, n_positions: 32, vocab_size: 50257 };

/**
 * Writes the tiny GPT-2 into `dir` (created), seeded by `seed`.
 *
 * @example
 * ```ts ignore
 * await writeTinyHfGpt2("/tmp/gpt2tiny", 0);
 * ```
 */
export async function writeTinyHfGpt2(dir: string, seed: number): Promise<void> {
  const { n_layer, n_embd: d, n_positions: c, vocab_size: v } = TINY_GPT2;
  let k = 0;
  const draw = (shape: number[], mean = 0, std = 0.3): Tensor =>
    randn(shape, { seed: seed * 1000 + k++, mean, std, dtype: "f32" });
  const sd = new Map<string, Tensor>([["wte.weight", draw([v, d])], ["wpe.weight", draw([c, d])]]);
  for (let i = 0; i < n_layer; i++) {
    const h = `h.${i}.`;
    for (
      const [name, shape] of [["attn.c_attn", [d, 3 * d]], ["attn.c_proj", [d, d]], [
        "mlp.c_fc",
        [d, 4 * d],
      ], ["mlp.c_proj", [4 * d, d]]] as const
    ) {
      sd.set(`${h}${name}.weight`, draw([...shape]));
      sd.set(`${h}${name}.bias`, draw([shape[1]], 0, 0.1));
    }
    for (const ln of ["ln_1", "ln_2"]) {
      sd.set(`${h}${ln}.weight`, draw([d], 1, 0.2));
      sd.set(`${h}${ln}.bias`, draw([d], 0, 0.1));
    }
  }
  sd.set("ln_f.weight", draw([d], 1, 0.2));
  sd.set("ln_f.bias", draw([d], 0, 0.1));
  await Deno.mkdir(dir, { recursive: true });
  const config = {
    model_type: "gpt2",
    architectures: ["GPT2LMHeadModel"],
    ...TINY_GPT2,
    n_inner: null,
    activation_function: "gelu_new",
    layer_norm_epsilon: 1e-5,
  };
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
  await Deno.writeFile(`${dir}/model.safetensors`, encodeSafetensors(sd, { format: "pt" }));
}

/**
 * The tiny GPT-2 (seed 0) imported by `mechlab import` as `runs/tinygpt2`, its Hugging Face folder
 * written to a temporary folder and removed after; the run's path.
 *
 * @example
 * ```ts ignore
 * const run = await importTinyGpt2(`${dir}/runs`); // `${dir}/runs/tinygpt2`
 * ```
 */
export async function importTinyGpt2(runs: string): Promise<string> {
  const hf = await Deno.makeTempDir();
  try {
    await writeTinyHfGpt2(`${hf}/tinygpt2`, 0);
    const imported = await mechlab("import", "--from", `${hf}/tinygpt2`, "--out", runs);
    assert.equal(imported.code, 0, imported.err);
  } finally {
    await Deno.remove(hf, { recursive: true });
  }
  return `${runs}/tinygpt2`;
}
