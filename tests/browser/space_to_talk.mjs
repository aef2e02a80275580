// The parents' Space to Talk pages in headless Chromium (Debian's /usr/bin/chromium), on a
// phone-sized screen: a parent books, moves and cancels with JavaScript switched off, a second
// parent meets a time just taken, and axe-core checks every page for accessibility violations.
//
//   node space_to_talk.mjs <base url> <booking link path>
//
// The Rust test `a_parent_uses_the_booking_pages_in_a_real_browser_with_no_accessibility_violations`
// (tests/tests/space_to_talk.rs) starts scps, publishes a run and issues the link, then runs this.

import { accessible, args, check, phone, withBrowser } from "./checks.mjs";

const [base, linkPath] = args("node space_to_talk.mjs <base url> <booking link path>");

async function text(page) {
  return page.locator("main").innerText();
}

await withBrowser(async (browser) => {
  // Parent 2 (JavaScript on, only so that axe can run; the page itself uses none) opens the
  // page first, so that the time parent 1 is about to take is still offered.
  const checker = await browser.newContext({ ...phone, bypassCSP: true });
  const second = await checker.newPage();
  await second.goto(base + linkPath);
  check((await second.title()).includes("Space to Talk"), "the booking page has a title");
  await accessible(second, "the booking page");

  // Parent 1, with JavaScript switched off, books the first time.
  const plain = await browser.newContext({ ...phone, javaScriptEnabled: false });
  const first = await plain.newPage();
  const response = await first.goto(base + linkPath);
  check(response.status() === 200, "the page opens without JavaScript");
  const offered = await first.locator('input[name="slot"]').count();
  check(offered >= 3, `it offers the free times (${offered})`);
  const firstTime = await first.locator('input[name="slot"]').first().getAttribute("value");
  await first.locator('input[name="slot"]').first().check();
  await first.getByLabel("Your name").fill("Robin");
  await first.getByLabel("Phone number").fill("07700 900123");
  await first.getByLabel("By phone").check();
  await first.getByRole("button", { name: "Book this time" }).click();
  await first.waitForURL(/\/space-to-talk\/manage\//);
  check((await text(first)).includes("You are booked"), "booking lands on the parent's own page");
  const manageUrl = first.url().split("?")[0];

  // Parent 2 chooses the same time: it has gone, and the remaining times are offered.
  await second.locator(`input[name="slot"][value="${firstTime}"]`).check();
  await second.getByLabel("Your name").fill("Jamie");
  await second.getByLabel("Email address").fill("jamie@example.org");
  await second.getByLabel("By email").check();
  await second.getByRole("button", { name: "Book this time" }).click();
  await second.waitForLoadState();
  const taken = await text(second);
  check(taken.includes("That time has gone"), "a time just taken says so");
  check((await second.locator('input[name="slot"]').count()) === offered - 1, "and shows the remaining times");
  check((await second.getByLabel("Your name").inputValue()) === "Jamie", "what was typed is kept");
  await accessible(second, "the page of a time just taken");

  // A form with problems: the summary links to the fields.
  await second.goto(base + linkPath);
  await second.getByRole("button", { name: "Book this time" }).click();
  await second.waitForLoadState();
  check((await text(second)).includes("There is a problem"), "missing answers are listed");
  await accessible(second, "the page with problems");

  // The manage page, then moving and cancelling, all without JavaScript.
  await second.goto(manageUrl);
  await accessible(second, "the manage page");
  await first.locator('input[name="slot"]').last().check();
  await first.getByRole("button", { name: "Move to this time" }).click();
  await first.waitForURL(/done=moved/);
  check((await text(first)).includes("Your booking has moved"), "the parent moves their booking");
  await first.getByRole("button", { name: "Cancel my booking" }).click();
  await first.waitForURL(/done=cancelled/);
  check((await text(first)).includes("Your booking is cancelled"), "the parent cancels it");
  await second.goto(manageUrl + "?done=cancelled");
  await accessible(second, "the cancelled booking");

  // A link that does not work.
  await second.goto(base + "/space-to-talk/stl_not-a-real-link");
  check((await text(second)).includes("This link does not work"), "a wrong link says so");
  await accessible(second, "the page of a wrong link");

  // Nothing is wider than the phone's screen.
  await second.goto(base + linkPath);
  const wide = await second.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  check(!wide, "the page fits a phone's width");
});
