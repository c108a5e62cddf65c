// The first command prints nothing that reads as a failure on a healthy machine: where
// XDG_RUNTIME_DIR is unset (containers, CI, ssh without a login session), Mesa's Wayland probe
// printed `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` twice as the adapter
// was requested, until requestGpu gave it a private folder for the request.
import * as assert from "node:assert/strict";
import { mechlabWithEnv, withTempDir } from "../helpers.ts";
import { GPU } from "./gpu_helpers.ts";

GPU.test({
  name: "train on the GPU with XDG_RUNTIME_DIR unset: no error line",
  fn: () =>
    withTempDir(async (dir) => {
      const { code, out, err } = await mechlabWithEnv(
        { XDG_RUNTIME_DIR: undefined },
        ...["train", "--preset", "smoke", "--steps", "10", "--eval-every", "10"],
        ...["--device", "gpu", "--out", dir],
      );
      assert.equal(code, 0, err);
      assert.match(out, /^device: .*GPU/m, out); // the adapter was requested, and used
      assert.doesNotMatch(out + err, /XDG_RUNTIME_DIR|error|warning/i, out + err);
    }),
});
