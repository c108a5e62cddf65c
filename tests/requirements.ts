/**
 * What some tests need beyond Deno (a WebGPU adapter, Chromium, python3 with numpy), and the rule
 * for when it is missing: under `CI=true` the tests that need it fail, naming what is missing,
 * since CI installs it (`.ci/run`) and a green run without it would be a lie; anywhere else they
 * are reported as ignored, with the reason printed once. Either way every test is registered, so
 * a machine without a GPU shows the GPU tests as skipped rather than not at all.
 *
 * @module
 */

/** Whether this is CI (`CI=true`, as GitHub Actions and most CI services set it). */
export const CI = Deno.env.get("CI") === "true";

/**
 * Something a group of tests needs, and why it is missing (undefined when it is there).
 *
 * @example
 * ```ts ignore
 * import { Requirement } from "./requirements.ts";
 * const python = new Requirement("numpy reader tests", "python3 with numpy not found");
 * python.test({ name: "reads", fn: () => {} }); // ignored here; fails under CI=true
 * ```
 */
export class Requirement {
  /** Prints, once, what is missing and what becomes of the tests that need it. */
  constructor(readonly what: string, readonly missing: string | undefined) {
    if (missing === undefined) return;
    console.log(
      CI ? `${what} FAIL: CI=true and ${missing}` : `${what} skipped (ignored): ${missing}`,
    );
  }

  /**
   * Registers `def`: run as is where the requirement is met; ignored where it is not, outside CI;
   * under `CI=true` a failure whose message names what is missing.
   */
  test(def: Deno.TestDefinition): void {
    const missing = this.missing;
    Deno.test({
      ...def,
      ignore: def.ignore === true || (missing !== undefined && !CI),
      fn: missing === undefined ? def.fn : () => {
        throw new Error(`${this.what} cannot run, and CI=true requires them: ${missing}`);
      },
    });
  }
}
