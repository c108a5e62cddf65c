// The page bundle embedded in the program: ui/bundle.gen.ts is built from the current sources (by
// the hash of its inputs, recomputed here), and it holds a complete page: the document, one
// self-contained ES module with the elements the browser tests find, and uPlot's style sheet.
import * as assert from "node:assert/strict";
import { join } from "node:path";
import { css, html, inputsHash as recorded, js } from "../../ui/bundle.gen.ts";
import { bundleInputs, inputsHash } from "../../ui/bundle_inputs.ts";

const root = new URL("../..", import.meta.url).pathname;

Deno.test("ui/bundle.gen.ts is built from the current ui/ sources (else: deno task build:ui)", async () => {
  assert.equal(
    recorded,
    await inputsHash(root),
    "ui/bundle.gen.ts is stale: run `deno task build:ui` and commit it",
  );
});

Deno.test("the bundle's inputs are the page's sources and the build script", async () => {
  const files = await bundleInputs(root);
  for (const f of ["tools/build_ui.ts", "ui/app.tsx", "ui/style.css", "ui/series.ts"]) {
    assert.ok(files.includes(f), f);
  }
  assert.ok(!files.includes("ui/bundle.gen.ts"));
  assert.ok(!files.includes("ui/README.md"));
});

async function withTree(files: Record<string, string>, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    for (const [path, text] of Object.entries(files)) {
      await Deno.mkdir(join(dir, path, ".."), { recursive: true });
      await Deno.writeTextFile(join(dir, path), text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const TREE = {
  "tools/build_ui.ts": "b",
  "ui/a.ts": "a\r\nz",
  "ui/sub/s.css": "c",
  "ui/README.md": "not an input",
  "ui/bundle.gen.ts": "generated",
  "ui/data.json": "not an input",
  "deno.json": JSON.stringify({ imports: { preact: "npm:preact@1.0.0", other: "npm:x@1" } }),
};

Deno.test("inputsHash: SHA-256 of the paths and texts, then the pinned packages", async () => {
  // Python: hashlib.sha256(b'tools/build_ui.ts\nb\0ui/a.ts\na\nz\0ui/sub/s.css\nc\0'
  //   b'preact=npm:preact@1.0.0\0@preact/signals=\0uplot=\0esbuild=\0').hexdigest()
  await withTree(TREE, async (dir) => {
    assert.deepEqual(await bundleInputs(dir), ["tools/build_ui.ts", "ui/a.ts", "ui/sub/s.css"]);
    assert.equal(
      await inputsHash(dir),
      "4f8c9f619743d5193e318123e31ce26df2534ba2525f12ae3141b8a343100cde",
    );
  });
});

Deno.test("inputsHash changes with a source or a bundled package's version, not with the rest", async () => {
  await withTree(TREE, async (dir) => {
    const base = await inputsHash(dir);
    const changed = async (path: string, text: string) => {
      const old = await Deno.readTextFile(join(dir, path));
      await Deno.writeTextFile(join(dir, path), text);
      const h = await inputsHash(dir);
      await Deno.writeTextFile(join(dir, path), old);
      return h !== base;
    };
    assert.equal(await changed("ui/sub/s.css", "d"), true);
    assert.equal(await changed("tools/build_ui.ts", "b2"), true);
    assert.equal(await changed("ui/a.ts", "a\nz"), false, "CRLF and LF hash alike");
    assert.equal(await changed("ui/README.md", "edited"), false);
    assert.equal(await changed("ui/bundle.gen.ts", "rebuilt"), false);
    const config = (preact: string, other: string) =>
      JSON.stringify({ imports: { preact, other }, tasks: { x: other } });
    assert.equal(await changed("deno.json", config("npm:preact@1.0.1", "npm:x@1")), true);
    assert.equal(await changed("deno.json", config("npm:preact@1.0.0", "npm:x@2")), false);
  });
});

Deno.test("html: the style sheet, the mount point and the module script", () => {
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<link rel="stylesheet" href="\/app\.css">/);
  assert.match(html, /<div id="app"><\/div>/);
  assert.match(html, /<script type="module" src="\/app\.js"><\/script>/);
});

Deno.test("js: one self-contained module holding the elements the browser tests find", () => {
  // No import left for the browser to resolve: preact, signals and uPlot are inside.
  assert.doesNotMatch(js, /(^|[;}\s])import\s*[{*"']/);
  assert.doesNotMatch(js, /\bnpm:/);
  for (
    const id of [
      "runs-table",
      "run-row-",
      "loss-chart",
      "acc-chart",
      "launch-form",
      "launch-submit",
      "launch-preset",
      "launch-${", // launch-steps, launch-lr, ...: one template over the override fields
      "checkpoint-slider",
    ]
  ) {
    assert.ok(js.includes(id), `data-testid ${id} missing from the bundle`);
  }
  assert.ok(js.includes("/api/events") && js.includes("/api/runs"));
  // Minified with its libraries: about 150 KB with the prompt and sweep views; the upper bound
  // catches an unminified build or a library bundled twice.
  assert.ok(js.length > 40_000 && js.length < 200_000, `js is ${js.length} bytes`);
});

Deno.test("css: uPlot's sheet and the page's own", () => {
  assert.ok(css.includes(".u-legend"), "uPlot's style sheet is missing");
  assert.ok(css.includes(".checkpoint-steps"));
  assert.doesNotMatch(css, /@import/);
});
