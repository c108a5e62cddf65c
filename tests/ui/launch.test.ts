// The launch form's request body, placeholders and choices, and the checkpoint slider's choice of
// step.
import * as assert from "node:assert/strict";
import { presets as presetsAnswer } from "../../engine/server/runs_api.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import { checkpointSteps, chooseStep, filesAt } from "../../ui/checkpoint_step.ts";
import {
  choicesOf,
  choiceText,
  emptyFields,
  launchRequest,
  OVERRIDE_FIELDS,
  placeholder,
} from "../../ui/launch.ts";
import type { Checkpoint, PresetsAnswer } from "../../ui/types.ts";

const EMPTY = emptyFields("smoke");
const field = (id: string) => OVERRIDE_FIELDS.find((f) => f.id === id)!;
/** What the server answers to `GET /api/presets` on a machine without a hardware GPU. */
const ANSWER: PresetsAnswer = await presetsAnswer(false).json();

Deno.test("launchRequest: only filled fields, in their config part, numbers parsed", () => {
  assert.deepEqual(launchRequest(EMPTY), { preset: "smoke", overrides: {} });
  assert.deepEqual(
    launchRequest({
      ...EMPTY,
      name: " mine ",
      device: "cpu",
      steps: "300",
      lr: "3e-3",
      eval_every: "25",
      checkpoint_every: "100",
      p: " 31",
      op: "sub",
      seed: "0",
      normalization_type: "none",
      act_fn: "gelu",
      positional_embedding_type: "shortformer",
      grokfast_alpha: "0.9",
      grokfast_lambda: "2",
    }),
    {
      preset: "smoke",
      name: "mine",
      device: "cpu",
      overrides: {
        train: {
          steps: 300,
          lr: 0.003,
          eval_every: 25,
          checkpoint_every: 100,
          grokfast_alpha: 0.9,
          grokfast_lambda: 2,
        },
        task: { p: 31, op: "sub" },
        model: {
          seed: 0,
          act_fn: "gelu",
          normalization_type: null,
          positional_embedding_type: "shortformer",
        },
      },
    },
  );
});

Deno.test("launchRequest: a number field that does not parse is one line naming it", () => {
  assert.throws(() => launchRequest({ ...EMPTY, lr: "fast" }), {
    name: "RangeError",
    message: "lr 'fast' is not a number",
  });
  assert.throws(() => launchRequest({ ...EMPTY, steps: "1e999" }), /^RangeError: steps '1e999'/);
});

Deno.test("launchRequest: every choice the server lists, picked in the form, resolves to itself", () => {
  for (const f of OVERRIDE_FIELDS) {
    for (const choice of choicesOf(ANSWER.choices, f) ?? []) {
      const request = launchRequest({ ...EMPTY, [f.id]: choiceText(choice) });
      const config = resolveConfig(request.preset, request.overrides, "0.1.0");
      assert.equal((config[f.part] as unknown as Record<string, unknown>)[f.id], choice, f.id);
    }
  }
});

Deno.test("choicesOf: a select for each field whose value is a choice, an input for numbers", () => {
  const selects = OVERRIDE_FIELDS.filter((f) => choicesOf(ANSWER.choices, f) !== undefined);
  assert.deepEqual(selects.map((f) => f.id), [
    "task",
    "op",
    "act_fn",
    "normalization_type",
    "trainable_biases",
    "positional_embedding_type",
  ]);
  assert.deepEqual(choicesOf(ANSWER.choices, field("normalization_type"))?.map(choiceText), [
    "LN",
    "none",
  ]);
  assert.equal(choicesOf(ANSWER.choices, field("eval_every")), undefined);
});

Deno.test("placeholder: the preset's value (its own or the default it keeps); 'default' unloaded", () => {
  const presets = ANSWER.presets;
  assert.equal(placeholder(presets.smoke, field("steps")), "1500");
  assert.equal(placeholder(presets.smoke, field("eval_every")), "50");
  assert.equal(placeholder(presets.smoke, field("checkpoint_every")), "50");
  assert.equal(placeholder(presets.smoke, field("p")), "23");
  assert.equal(placeholder(presets.oocl, field("op")), "ssq");
  assert.equal(placeholder(presets.oocl, field("normalization_type")), "LN");
  assert.equal(placeholder(presets.grokking, field("steps")), "25000"); // DEFAULT_TRAIN's
  assert.equal(placeholder(presets.smoke, field("seed")), "0"); // DEFAULT_MODEL's
  assert.equal(placeholder(presets.smoke, field("normalization_type")), "none");
  assert.equal(placeholder(presets.smoke, field("positional_embedding_type")), "standard");
  assert.equal(placeholder(presets.smoke, field("grokfast_alpha")), "0.98"); // DEFAULT_TRAIN's
  assert.equal(placeholder(presets.smoke, field("grokfast_lambda")), "0"); // Grokfast off
  assert.equal(placeholder(undefined, field("lr")), "default");
});

const LIST: Checkpoint[] = [
  { step: 0, file: "step_000000.safetensors" },
  { step: 500, file: "step_000500.safetensors" },
  { step: 1000, file: "step_001000.safetensors" },
  { step: 1000, file: "final.safetensors" },
];

Deno.test("checkpointSteps and filesAt: the final file shares its step with the last step file", () => {
  assert.deepEqual(checkpointSteps(LIST), [0, 500, 1000]);
  assert.deepEqual(filesAt(LIST, 1000), ["step_001000.safetensors", "final.safetensors"]);
  assert.deepEqual(filesAt(LIST, 250), []);
  assert.deepEqual(filesAt(LIST, null), []);
});

Deno.test("chooseStep: follows the newest while on it; keeps a step chosen by hand", () => {
  assert.equal(chooseStep([0, 500], null, []), 500); // a run newly focused: its newest
  assert.equal(chooseStep([0, 500, 1000], 500, [0, 500]), 1000); // was on the newest: follows
  assert.equal(chooseStep([0, 500, 1000], 0, [0, 500]), 0); // chosen by hand: stays
  assert.equal(chooseStep([0, 1000], 500, [0, 500, 800]), 1000); // gone (a resume): the newest
  assert.equal(chooseStep([], 500, [500]), null);
});
