/**
 * `mechlab sample --run runs/NAME --prompt TEXT`: continues a prompt with a trained run's model,
 * token by token with a key-value cache, greedy at temperature 0 or drawn with temperature, top-k
 * and top-p from a seed (the same seed, the same text). The prompt is written as the run's tokens
 * are (`engine/data/codec.ts`): characters and `<name>` specials for a textual vocabulary, labels
 * separated by spaces otherwise.
 *
 * @module
 */

import { openCheckpointedRun } from "../engine/analysis/run_data.ts";
import { decode, encode } from "../engine/data/codec.ts";
import { taskShape } from "../engine/data/task_config.ts";
import { RunInputError } from "../engine/runs/mod.ts";
import { generate, openSampleModel } from "../engine/sample/mod.ts";
import { parseFlags, parseNumber } from "./args.ts";
import { UsageError } from "./errors.ts";

function help(): string {
  return [
    "mechlab sample --run runs/NAME --prompt TEXT [flags]",
    "",
    "Continues TEXT with the run's model and prints the continuation. A textual vocabulary",
    "(single characters and <name> specials: text, strings, brackets) is written as plain text",
    "('<bos>(()'); any other as its tokens' labels separated by spaces ('3 5 ='). A GPT-2 made a",
    "run by `mechlab import` reads and writes text through GPT-2's tokenizer, <|endoftext|> first.",
    "The model reads the prompt and every new token but the last: they must fit in its n_ctx",
    "(on the GPU, its key-value caches are made for those positions only).",
    "",
    "flags:",
    "  --run PATH            the run folder (required)",
    "  --prompt TEXT         the text to continue (required, at least one token)",
    "  --step S              the checkpoint at step S (default: the last)",
    "  --max-new-tokens N    how many tokens to add (default 1)",
    "  --temperature T       0 is greedy (default); > 0 divides the logits before the draw",
    "  --top-k K             draw among the K most likely tokens only",
    "  --top-p P             draw from the nucleus of probability mass P in (0, 1]",
    "  --seed S              seeds the draws (default 0)",
    "  --device D            cpu | gpu (default cpu)",
    '  --json                print {"prompt_tokens", "new_tokens", "text"} (text: the continuation)',
    "  -h, --help            this help",
  ].join("\n");
}

/**
 * Runs `mechlab sample` with command-line `args`.
 *
 * @example
 * ```ts ignore
 * await sample(["--run", "runs/smoke", "--prompt", "3 5 =", "--json"]);
 * ```
 */
export async function sample(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    run: { type: "string" },
    prompt: { type: "string" },
    step: { type: "string" },
    "max-new-tokens": { type: "string" },
    temperature: { type: "string" },
    "top-k": { type: "string" },
    "top-p": { type: "string" },
    seed: { type: "string" },
    device: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return console.log(help());
  if (values.run === undefined) throw new UsageError("--run is required: the run folder");
  if (values.prompt === undefined) {
    throw new UsageError("--prompt is required: the text to continue");
  }
  const number = (flag: string, kind: "int" | "number") => {
    const raw = values[flag as keyof typeof values];
    return typeof raw === "string" ? parseNumber(`--${flag}`, raw, kind) : undefined;
  };
  const device = values.device ?? "cpu";
  if (device !== "cpu" && device !== "gpu") {
    throw new UsageError(`--device ${device}: expected cpu or gpu`);
  }
  const options = {
    maxNewTokens: number("max-new-tokens", "int") ?? 1,
    temperature: number("temperature", "number") ?? 0,
    topK: number("top-k", "int"),
    topP: number("top-p", "number"),
    seed: number("seed", "int") ?? 0,
  };
  const usage = (e: unknown) => {
    if (e instanceof RangeError || e instanceof RunInputError) {
      throw new UsageError(e.message.split("\n")[0]!);
    }
    throw e;
  };
  // The prompt first, so the GPU's caches are made for the positions it and the tokens take.
  const run = await openCheckpointedRun(values.run).catch(usage);
  const { vocab } = taskShape(run.config.task);
  let prompt: number[] = [];
  try {
    prompt = encode(vocab, values.prompt);
  } catch (e) {
    usage(e instanceof RangeError ? new RangeError(`--prompt: ${e.message}`) : e);
  }
  const needed = prompt.length + options.maxNewTokens - 1; // generate checks it against n_ctx
  const { model } = await openSampleModel(run, {
    step: number("step", "int"),
    device,
    positions: Math.min(Math.max(needed, 1), run.config.model.n_ctx),
  }).catch(usage);
  try {
    const tokens: number[] = [];
    try {
      for await (const t of generate(model, prompt, options)) tokens.push(t.token);
    } catch (e) {
      usage(e);
    }
    const text = decode(vocab, tokens);
    if (values.json) {
      console.log(JSON.stringify({ prompt_tokens: prompt, new_tokens: tokens, text }));
    } else {
      console.log(text);
    }
  } finally {
    model.release();
  }
}
