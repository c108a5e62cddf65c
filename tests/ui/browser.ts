/**
 * What the browser tests share: Debian's Chromium driven by playwright-core (never
 * `playwright install`), with the flags these machines need; `browserTest`, which gives a test a
 * page opened at a server on a temporary runs folder; a folder for screenshots, and a polling
 * wait.
 *
 * @module
 */

import * as assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { type ServerHandle, startServer } from "../../engine/server/mod.ts";
import { Requirement } from "../requirements.ts";

export { until } from "../helpers.ts";

const CHROMIUM = "/usr/bin/chromium";

/** Chromium: without it the browser tests are ignored (the reason said once), or fail under CI. */
const CHROMIUM_REQUIRED = new Requirement(
  "browser tests",
  await Deno.stat(CHROMIUM).then(
    () => undefined,
    () => `no ${CHROMIUM} (apt-get install chromium)`,
  ),
);

/** Where screenshots go for a person to look at (git-ignored). */
export const SHOTS = new URL("./screenshots/", import.meta.url).pathname;

/** Launches Chromium headless, sandbox and network extras off (see shared/notes/browser.md). */
export async function launchChromium(): Promise<Browser> {
  await Deno.mkdir(SHOTS, { recursive: true });
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** What a browser test's body gets: the page, opened at the server; the runs folder. */
export interface BrowserTestContext<T> {
  /** The page, already at the server's address with its token, `pageerror`s collected (any fails the test). */
  page: Page;
  /** The temporary runs folder the server serves, removed after the test. */
  runs: string;
  /** What `setup` returned. */
  prepared: T;
}

/** How a browser test is set up: the page's size, and what goes in the runs folder first. */
export interface BrowserTestOptions<T> {
  /** The page's size; 1400 × 1000 unless given. */
  viewport?: { width: number; height: number };
  /** Fills the runs folder before the server starts (trains, analyses); returns what `fn` reads. */
  setup?: (runs: string) => Promise<T>;
  /** What the server is told of the machine's GPU (false: none), which sets the form's default. */
  hardwareGpu?: boolean;
  /** The largest model whose sweep and detectors the page runs unasked (the server's default unless given). */
  eagerMaxParams?: number;
}

/**
 * Registers a `Deno.test` (ignored without Chromium, failing under `CI=true`) that makes a
 * temporary runs folder, runs `setup` in it, starts the server on it (polling every 200 ms), opens a page at the server in
 * Chromium, runs `fn`, and then asserts the page threw no errors. Browser, server and folder go
 * away whether it passed or not. The options come before the body so that `T` is inferred from
 * `setup` even when it is written inline. The sanitizers are off: the server's runs and
 * Chromium's pipes outlive the test's own operations.
 *
 * @example
 * ```ts
 * import * as assert from "node:assert/strict";
 * import { browserTest } from "./browser.ts";
 *
 * browserTest("page: the token leaves the address bar", {}, async ({ page }) => {
 *   assert.equal(new URL(page.url()).search, "");
 * });
 * ```
 */
export function browserTest<T = undefined>(
  name: string,
  options: BrowserTestOptions<T>,
  fn: (ctx: BrowserTestContext<T>) => Promise<void>,
): void {
  CHROMIUM_REQUIRED.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const runs = await Deno.makeTempDir();
      let server: ServerHandle | undefined;
      let browser: Browser | undefined;
      try {
        // Without `setup` there is nothing to pass on, and T is its default, undefined.
        const prepared = await options.setup?.(runs) as T;
        server = await startServer({
          port: 0,
          runs,
          pollMs: 200,
          hardwareGpu: options.hardwareGpu ?? false,
          ...(options.eagerMaxParams === undefined
            ? {}
            : { eagerMaxParams: options.eagerMaxParams }),
        });
        browser = await launchChromium();
        const page = await browser.newPage({
          viewport: options.viewport ?? { width: 1400, height: 1000 },
        });
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(e.message));
        await page.goto(server.url);
        await fn({ page, runs, prepared });
        assert.deepEqual(errors, []); // errors thrown in the page, named in the diff
      } finally {
        await browser?.close();
        await server?.close({ graceMs: 0 });
        await Deno.remove(runs, { recursive: true });
      }
    },
  });
}

/** An attribute of the element with that test id. */
export async function attr(page: Page, testid: string, name: string): Promise<string | null> {
  return await page.getByTestId(testid).getAttribute(name);
}

/**
 * The RGB at the centre of each cell of the heatmap canvas with that test id, row by row: the cell
 * size is the canvas's `data-cell` by `data-cell-height` (CSS pixels), times the page's pixel
 * ratio on the canvas. The
 * script is text: the tests are type-checked without the DOM's types (see ui/README.md), and the
 * browser runs it as is.
 */
export async function cellColours(page: Page, testid: string): Promise<number[][]> {
  return await page.evaluate(`(() => {
    const canvas = document.querySelector('[data-testid="${testid}"]');
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    const dpr = canvas.width / canvas.clientWidth;
    const [cell, rowH] = [Number(canvas.dataset.cell) * dpr, Number(canvas.dataset.cellHeight) * dpr];
    const out = [];
    for (let r = 0; r < Number(canvas.dataset.rows); r++) {
      for (let c = 0; c < Number(canvas.dataset.cols); c++) {
        const at = 4 * (Math.floor((r + 0.5) * rowH) * canvas.width + Math.floor((c + 0.5) * cell));
        out.push([data[at], data[at + 1], data[at + 2]]);
      }
    }
    return out;
  })()`) as number[][];
}

/** Where cell `(r, c)` of the heatmap canvas with that test id is, in its CSS pixels (for clicks). */
export async function cellCentre(
  page: Page,
  testid: string,
  [r, c]: [number, number],
): Promise<{ x: number; y: number }> {
  const cell = Number(await attr(page, testid, "data-cell"));
  const rowH = Number(await attr(page, testid, "data-cell-height"));
  return { x: (c + 0.5) * cell, y: (r + 0.5) * rowH };
}
