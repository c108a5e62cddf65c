// A config value that is one of a list: how the list is said, and the one-line error naming the
// field, the list and the value (hand-written expectations).
import * as assert from "node:assert/strict";
import { checkChoice, isOneOf, listed } from "../../engine/model/choices.ts";

Deno.test("choices: lists read as a sentence; a value off the list names field, list and value", () => {
  assert.equal(listed([]), "");
  assert.equal(listed(["LN"]), "LN");
  assert.equal(listed(["LN", null]), "LN or null");
  assert.equal(listed(["relu", "gelu", "gelu_new"]), "relu, gelu or gelu_new");
  assert.equal(isOneOf(null, ["LN", null]), true);
  assert.equal(isOneOf("ln", ["LN", null]), false);
  checkChoice("schedule", "cosine", ["constant", "cosine"]);
  assert.throws(
    () => checkChoice("schedule", "linear", ["constant", "cosine"]),
    { name: "RangeError", message: "schedule must be constant or cosine, got linear" },
  );
});
