// A table's SEMH audit page in headless Chromium (Debian's /usr/bin/chromium), on a phone-sized
// screen with JavaScript switched off: the facilitator answers two statements and saves, sees
// them saved, and axe-core checks each page for accessibility violations.
//
//   node semh_table.mjs <base url> <table link path>
//
// The Rust test `a_facilitator_uses_the_table_page_in_a_real_browser_with_no_accessibility_violations`
// (tests/tests/semh.rs) starts scps, opens a whole-staff round and adds the table, then runs this.

import { accessible, args, check, phone, withBrowser } from "./checks.mjs";

const [base, tablePath] = args("node semh_table.mjs <base url> <table link path>");

await withBrowser(async (browser) => {
  // The facilitator: no JavaScript at all.
  const plain = await browser.newContext({ ...phone, javaScriptEnabled: false });
  const table = await plain.newPage();
  await table.goto(base + tablePath);
  check((await table.title()).includes("SEMH audit"), "the table's page has a title");
  await table.locator('input[name="r-0"]').first().check();
  await table.locator("#e-0").fill("Breakfast club every day");
  await table.locator('input[name="r-1"]').last().check();
  await table.getByRole("button", { name: "Save our answers" }).click();
  await table.waitForURL(/saved=1/);
  const saved = await table.locator("main").innerText();
  check(saved.includes("Saved"), "saving says so");
  check((await table.locator("#e-0").inputValue()) === "Breakfast club every day", "the note is kept");
  check(await table.locator('input[name="r-0"]').first().isChecked(), "the answer is kept");

  // axe needs JavaScript in the checker's own page; the page itself uses none.
  const checker = await browser.newContext({ ...phone, bypassCSP: true });
  const page = await checker.newPage();
  await page.goto(base + tablePath);
  await accessible(page, "the table's page");
  await page.goto(base + tablePath + "?saved=1");
  await accessible(page, "the page after saving");
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  check(!wide, "the page fits a phone's width");
  await page.goto(base + "/semh/tables/smt_not-a-real-link");
  check((await page.locator("main").innerText()).includes("This link does not work"), "a wrong link says so");
});
