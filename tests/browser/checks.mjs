// What the browser scripts share: Debian's chromium on a phone-sized screen, a tally of checks,
// and axe-core's accessibility check of a page (WCAG 2.x A and AA, and best practice).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

let failures = 0;

export function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures += 1;
}

/** Runs axe-core on the page and reports its violations. */
export async function accessible(page, what) {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } }),
  );
  for (const v of result.violations) {
    console.log(`     axe: ${v.id} (${v.impact}): ${v.help}`);
    for (const n of v.nodes.slice(0, 3)) console.log(`          ${n.target.join(" ")}`);
  }
  check(result.violations.length === 0, `${what}: no accessibility violations (${result.passes.length} rules pass)`);
}

/** The base url and page path a script was given. */
export function args(usage) {
  const [base, path] = process.argv.slice(2);
  if (!base || !path) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return [base, path];
}

/** Runs `checks` with a browser, then ends the process with the tally. */
export async function withBrowser(checks) {
  const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  try {
    await checks(browser);
  } finally {
    await browser.close();
  }
  if (failures > 0) {
    console.log(`${failures} check(s) failed`);
    process.exit(1);
  }
  console.log("all browser checks passed");
}
