// The rule of tests/requirements.ts on a real GPU test, in a subprocess whose WebGPU sees no
// adapter (Vulkan only, and no Vulkan driver): outside CI the test is ignored with the reason;
// under CI=true it fails, naming what is missing, and `deno test` exits non-zero.
import * as assert from "node:assert/strict";

const DEVICE_TEST = new URL("./gpu/device.test.ts", import.meta.url).pathname;

/** `deno test` of one GPU test with no adapter to be had, and `CI` as given (unset: undefined). */
async function gpuTestWithoutAdapter(ci: string | undefined) {
  const env: Record<string, string> = {
    ...Deno.env.toObject(),
    NO_COLOR: "1",
    // Deno's WebGPU falls back to OpenGL (Mesa's llvmpipe) when Vulkan has no driver: allow
    // Vulkan only, and point its loader at no driver.
    DENO_WEBGPU_BACKEND: "vulkan",
    VK_ICD_FILENAMES: "/nonexistent",
    VK_DRIVER_FILES: "/nonexistent",
  };
  if (ci === undefined) delete env.CI;
  else env.CI = ci;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--no-check", "-A", "--filter", "gpu: the adapter is described", DEVICE_TEST],
    env,
    clearEnv: true,
  }).output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  return { code, text };
}

Deno.test("requirements: without an adapter a GPU test is ignored, and fails under CI=true", async () => {
  const here = await gpuTestWithoutAdapter(undefined);
  assert.equal(here.code, 0, here.text);
  assert.match(here.text, /GPU tests skipped \(ignored\): no WebGPU adapter found/);
  assert.match(here.text, /ok \| 0 passed \| 0 failed \| 1 ignored/);

  const ci = await gpuTestWithoutAdapter("true");
  assert.notEqual(ci.code, 0, ci.text);
  assert.match(ci.text, /GPU tests cannot run, and CI=true requires them: no WebGPU adapter found/);
  assert.match(ci.text, /FAILED \| 0 passed \| 1 failed/);
});
