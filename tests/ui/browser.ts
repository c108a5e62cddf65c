/**
 * What the browser tests share: Debian's Chromium driven by playwright-core (never
 * `playwright install`), with the flags these machines need, a folder for screenshots, and a
 * polling wait.
 *
 * @module
 */

import { type Browser, chromium, type Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is installed; the browser tests are skipped (with this said once) when not. */
export const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!hasChromium) console.log(`browser test skipped: no ${CHROMIUM} (apt-get install chromium)`);

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

/** Waits until `check` returns true, or fails after `ms` naming `what`. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  ms = 60_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An attribute of the element with that test id. */
export async function attr(page: Page, testid: string, name: string): Promise<string | null> {
  return await page.getByTestId(testid).getAttribute(name);
}

/**
 * The RGB at the centre of each `cell`-pixel square of the canvas with that test id, row by row.
 * The script is text: the tests are type-checked without the DOM's types (see ui/README.md), and
 * the browser runs it as is.
 */
export async function cellColours(page: Page, testid: string, cell: number): Promise<number[][]> {
  return await page.evaluate(`(() => {
    const canvas = document.querySelector('[data-testid="${testid}"]');
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    const out = [];
    for (let y = ${cell / 2}; y < canvas.height; y += ${cell}) {
      for (let x = ${cell / 2}; x < canvas.width; x += ${cell}) {
        const at = 4 * (Math.floor(y) * canvas.width + Math.floor(x));
        out.push([data[at], data[at + 1], data[at + 2]]);
      }
    }
    return out;
  })()`) as number[][];
}
