// The README's "Loading a checkpoint in Python" snippet, taken from README.md as written, run on
// real checkpoints (the grokking model's shape: no LayerNorm, ReLU; the out-of-context model's:
// two attention-only layers with LayerNorm) against stand-ins for TransformerLens and safetensors
// (fixtures/readme_python/) that hold every name and shape to TransformerLens' conventions: the
// snippet's own strict check passes, the model takes every weight TransformerLens has for that
// config, and nothing is missing but the attention buffers TransformerLens makes itself.
import * as assert from "node:assert/strict";
import { join } from "node:path";
import { mechlab, withTempDir } from "../helpers.ts";
import { NUMPY, python } from "../python.ts";

const README = new URL("../../README.md", import.meta.url).pathname;
const RUNNER = new URL("../../fixtures/readme_python/run.py", import.meta.url).pathname;

/** The first ```python block after "Loading a checkpoint in Python" in README.md. */
async function snippet(): Promise<string> {
  const text = await Deno.readTextFile(README);
  const match = text.match(/Loading a checkpoint in Python:\s*```python\n([\s\S]*?)```/);
  assert.ok(match, "README.md has the Python loading snippet");
  return match[1]!;
}

interface Loaded {
  config: Record<string, unknown>;
  loaded: Record<string, number[]>;
  expected: Record<string, number[]>;
  missing: string[];
  unexpected: string[];
}

const CASES: [string, string[]][] = [
  ["the grokking model's shape", ["--preset", "smoke"]],
  [
    "two attention-only LayerNorm layers (oocl)",
    ["--preset", "oocl", "--p", "7", "--d-model", "16", "--n-heads", "2", "--d-head", "8"],
  ],
];

for (const [what, flags] of CASES) {
  NUMPY.test({
    name: `README's Python snippet loads a checkpoint strictly: ${what}`,
    fn: () =>
      withTempDir(async (dir) => {
        // The snippet's own path: runs/modular_add_113/checkpoints/final.safetensors.
        const trained = await mechlab(
          "train",
          ...flags,
          ...["--steps", "2", "--eval-every", "1", "--checkpoint-every", "2", "--device", "cpu"],
          ...["--out", join(dir, "runs"), "--name", "modular_add_113"],
        );
        assert.equal(trained.code, 0, trained.err);
        const file = join(dir, "snippet.py");
        await Deno.writeTextFile(file, await snippet());
        const seen = await python<Loaded>([RUNNER, file], { cwd: dir });
        const model = JSON.parse(
          await Deno.readTextFile(join(dir, "runs/modular_add_113/config.json")),
        ).model;
        for (const [field, value] of Object.entries(model)) {
          if (field !== "trainable_biases") assert.deepEqual(seen.config[field], value, field);
        }
        assert.deepEqual(seen.unexpected, []);
        const buffers = Object.keys(seen.expected).filter((k) => /\.(mask|IGNORE)$/.test(k));
        assert.equal(buffers.length, 2 * model.n_layers);
        assert.deepEqual(seen.missing, buffers);
        const weights = Object.fromEntries(
          Object.entries(seen.expected).filter(([k]) => !buffers.includes(k)),
        );
        assert.deepEqual(seen.loaded, weights);
      }),
  });
}
