// The launch form's request body and placeholders, and the checkpoint slider's choice of step.
import * as assert from "node:assert/strict";
import { PRESETS } from "../../engine/train/presets.ts";
import { checkpointSteps, chooseStep, filesAt } from "../../ui/checkpoint_step.ts";
import { type LaunchFields, launchRequest, OVERRIDE_FIELDS, placeholder } from "../../ui/launch.ts";
import type { Checkpoint, Preset } from "../../ui/types.ts";

const EMPTY: LaunchFields = {
  preset: "smoke",
  name: "",
  steps: "",
  lr: "",
  p: "",
  op: "",
  seed: "",
};

Deno.test("launchRequest: only filled fields, in their config part, numbers parsed", () => {
  assert.deepEqual(launchRequest(EMPTY), { preset: "smoke", overrides: {} });
  assert.deepEqual(
    launchRequest({
      ...EMPTY,
      name: " mine ",
      steps: "300",
      lr: "3e-3",
      p: " 31",
      op: "sub",
      seed: "0",
    }),
    {
      preset: "smoke",
      name: "mine",
      overrides: {
        train: { steps: 300, lr: 0.003 },
        task: { p: 31, op: "sub" },
        model: { seed: 0 },
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

Deno.test("placeholder: the preset's own value, else 'default'", () => {
  const presets = PRESETS as unknown as Record<string, Preset>;
  const field = (id: string) => OVERRIDE_FIELDS.find((f) => f.id === id)!;
  assert.equal(placeholder(presets.smoke, field("steps")), "1500");
  assert.equal(placeholder(presets.smoke, field("p")), "23");
  assert.equal(placeholder(presets.oocl, field("op")), "ssq");
  assert.equal(placeholder(presets.grokking, field("steps")), "default");
  assert.equal(placeholder(presets.smoke, field("seed")), "default");
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
