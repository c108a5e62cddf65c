// The rule of tests/requirements.ts on a real GPU test, in a subprocess whose WebGPU sees no
// adapter (Vulkan only, and no Vulkan driver): outside CI the test is ignored with the reason;
// under CI=true it fails, naming what is missing, and `deno test` exits non-zero. And .ci/run's
// own part of the rule, with the tools it calls replaced: an install that fails fails it under CI.
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

/** `.ci/run` with npx, dpkg and apt-get replaced: deno's summary `summary`, installs failing. */
async function ciRun(ci: string | undefined, summary: string) {
  const shims = await Deno.makeTempDir();
  try {
    const script = (name: string, body: string) =>
      Deno.writeTextFile(`${shims}/${name}`, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    await script("npx", `echo '${summary}'`);
    await script("dpkg", "exit 1"); // nothing installed
    await script("apt-get", "exit 100"); // and nothing can be
    const env: Record<string, string> = {
      ...Deno.env.toObject(),
      PATH: `${shims}:${Deno.env.get("PATH")}`,
    };
    if (ci === undefined) delete env.CI;
    else env.CI = ci;
    const run = new URL("../.ci/run", import.meta.url).pathname;
    const { code, stdout } = await new Deno.Command("bash", { args: [run], env, clearEnv: true })
      .output();
    return { code, lines: new TextDecoder().decode(stdout).trim().split("\n") };
  } finally {
    await Deno.remove(shims, { recursive: true });
  }
}

Deno.test(".ci/run: a failed install fails the run under CI=true, and only warns elsewhere", async () => {
  const green = "ok | 40 passed (3 steps) | 0 failed | 2 ignored (5s)";
  const ci = await ciRun("true", green);
  assert.equal(ci.code, 1);
  assert.match(
    ci.lines[0]!,
    /^error: could not install mesa-vulkan-drivers chromium python3-numpy/,
  );
  assert.equal(ci.lines.at(-1), "40 passed, 1 failed, 2 skipped");
  const here = await ciRun(undefined, green);
  assert.equal(here.code, 0);
  assert.match(here.lines[0]!, /^warning: could not install/);
  assert.equal(here.lines.at(-1), "40 passed, 0 failed, 2 skipped");
  const red = await ciRun(undefined, "FAILED | 38 passed | 2 failed (5s)");
  assert.equal(red.code, 1);
  assert.equal(red.lines.at(-1), "38 passed, 2 failed");
});
