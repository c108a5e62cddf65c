/**
 * What the UI bundle is made from, and one hash of it. `tools/build_ui.ts` records the hash in
 * `ui/bundle.gen.ts`; a test recomputes it, so a change to the page's sources that was not
 * rebuilt fails the tests in milliseconds, without running esbuild (or needing npm packages).
 *
 * @module
 */

import { join } from "node:path";

/** The npm packages bundled (and the bundler): a new pinned version changes the bundle. */
export const BUNDLED_PACKAGES = ["preact", "@preact/signals", "uplot", "esbuild"] as const;

const SOURCE = /\.(ts|tsx|css)$/;

/**
 * The files the bundle depends on, relative to the repository root and sorted: every `.ts`,
 * `.tsx` and `.css` under `ui/` but the generated file, and the build script.
 *
 * @example
 * ```ts
 * import { bundleInputs } from "./bundle_inputs.ts";
 * const files = await bundleInputs(new URL("..", import.meta.url).pathname);
 * files.includes("ui/app.tsx"); // true
 * ```
 */
export async function bundleInputs(root: string): Promise<string[]> {
  const out = ["tools/build_ui.ts"];
  async function walk(dir: string): Promise<void> {
    for await (const e of Deno.readDir(join(root, dir))) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.isFile && SOURCE.test(e.name) && path !== "ui/bundle.gen.ts") out.push(path);
    }
  }
  await walk("ui");
  return out.sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
}

/**
 * SHA-256 (hex) of the inputs: each file's path and text (line ends made `\n`, so a Windows
 * checkout agrees), then the `deno.json` import of each bundled package.
 *
 * @example
 * ```ts
 * import { inputsHash } from "./bundle_inputs.ts";
 * const hash = await inputsHash(new URL("..", import.meta.url).pathname);
 * hash.length; // 64
 * ```
 */
export async function inputsHash(root: string): Promise<string> {
  const parts: string[] = [];
  for (const path of await bundleInputs(root)) {
    const text = (await Deno.readTextFile(join(root, path))).replaceAll("\r\n", "\n");
    parts.push(`${path}\n${text}\0`);
  }
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const imports: Record<string, string> = config.imports ?? {};
  for (const name of BUNDLED_PACKAGES) parts.push(`${name}=${imports[name] ?? ""}\0`);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("")));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
