//! The staffing advice in a real browser: a line of complaints at counter 3 alone pushes a new
//! customer's wait past the 15-minute target; the counter console's alerts and the manager page say
//! so in one line with both waits, and say nothing once the line is gone. Uses counter 3 and the
//! complaint service, which the other tests leave alone, and empties them again.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { call, hub, issueTicket, launch, managerPage, managerToken, screenshot, until } from "./harness.mjs";

const COUNTER = 3;
let browser;
let token;

before(async () => {
  browser = await launch();
  token = await managerToken();
});

after(async () => {
  // Empty the line and close the counter, whatever happened above.
  if (token) {
    for (let i = 0; i < 20; i++) {
      const next = await call("POST", `/api/v1/counters/${COUNTER}/next`, { token });
      if (next.status >= 300) break;
      await call("POST", `/api/v1/counters/${COUNTER}/no-show`, { token });
    }
    await call("POST", `/api/v1/counters/${COUNTER}/close`, { token });
  }
  if (browser) {
    assert.deepEqual(browser.errors, [], "no script errors on the pages");
    assert.deepEqual(browser.foreign, [], "nothing fetched from outside the hub");
    await browser.close();
  }
});

async function complaints() {
  const r = await call("GET", "/api/v1/staffing", { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.services.find((a) => a.service === "complaint");
}

test("a line past the target is on the console and the manager page, with one more counter's wait", async () => {
  const open = await call("POST", `/api/v1/counters/${COUNTER}/open`, { token });
  assert.equal(open.status, 200, JSON.stringify(open.body));
  // An empty line: nothing to open. (With counter 4 open too, one of the two may close.)
  const quiet = await complaints();
  assert.ok(quiet.standing === "ok" || quiet.standing === "spare", JSON.stringify(quiet));
  // Tickets until a new customer would wait past the target (five at one counter at the default
  // five minutes a service; more if another test opened counter 4, which also takes complaints).
  let advice;
  for (let i = 0; i < 12; i++) {
    await issueTicket("complaint");
    advice = await complaints();
    if (advice.standing === "over") break;
  }
  assert.equal(advice.standing, "over", JSON.stringify(advice));
  assert.match(advice.message.zh, /^投诉: 新取号预计等候 \d+ 分钟; 再开(一个窗口|\d+号窗口)(约 \d+ 分钟|即可随到随办)$/);

  // The counter console, signed in at counter 3.
  const console_ = await browser.context.newPage();
  await console_.goto(hub.url + "/staff/");
  await console_.locator("#signin-form").waitFor();
  await console_.fill("#login", hub.manager.login);
  await console_.fill("#password", hub.manager.password);
  await console_.selectOption("#counter-select", String(COUNTER));
  await console_.click("#signin-btn");
  await console_.locator("#console").waitFor({ state: "visible" });
  // Other services may need a counter too (the other tests leave lines behind): this one's line.
  const line = console_.locator('#alerts .al-staffing[data-service="complaint"]');
  await until(async () => (await line.count()) === 1, "the advice among the alerts");
  assert.match(await line.textContent(), /^投诉: 新取号预计等候 \d+ 分钟; 再开(一个窗口|\d+号窗口)(约 \d+ 分钟|即可随到随办)$/);
  await screenshot(console_, "staffing-console.png");

  // The manager page shows it above every tab.
  const manager = await managerPage(browser.context);
  await until(async () => !(await manager.locator("#staffing").isHidden()), "the advice strip");
  const row = manager.locator('#staffing-list li[data-service="complaint"]');
  assert.match(await row.textContent(), /投诉: 新取号预计等候 \d+ 分钟; 再开(一个窗口|\d+号窗口)(约 \d+ 分钟|即可随到随办)/);
  assert.match(await row.textContent(), /需 \d+ 个窗口,现开 \d+ 个/);
  assert.match(await manager.locator("#staffing-title").textContent(), /85% 客户 15 分钟内/);
  await screenshot(manager, "staffing-manager.png");

  // The line served (here: not come), the advice goes away on both pages.
  for (let i = 0; i < 20; i++) {
    const next = await call("POST", `/api/v1/counters/${COUNTER}/next`, { token });
    if (next.status >= 300) break;
    await call("POST", `/api/v1/counters/${COUNTER}/no-show`, { token });
  }
  await until(async () => (await complaints()).standing !== "over", "the advice to stop");
  await until(async () => (await line.count()) === 0, "the console's line gone");
  await manager.reload();
  await manager.locator("#manager").waitFor();
  await until(async () => (await manager.locator('#staffing-list li[data-service="complaint"]').count()) === 0, "the manager's line gone");
});

test("the report shows, hour by hour, the counters open against those needed", async () => {
  const day = process.env.HALLQ_SAMPLE_DAY;
  assert.ok(day, "run.sh writes the sample day and sets HALLQ_SAMPLE_DAY");
  const page = await browser.context.newPage();
  await page.goto(hub.url + "/staff/manager.html#reports");
  await page.locator("#signin-form").waitFor();
  await page.fill("#login", hub.manager.login);
  await page.fill("#password", hub.manager.password);
  await page.click("#signin-btn");
  await page.locator("#manager").waitFor();
  await page.click("[data-tab=reports]");
  await page.selectOption("#rep-period", "day");
  await page.fill("#rep-date", day);
  await page.click("#report-form button[type=submit]");
  const cell = (key, col) => page.locator(`#table-staffing tr[data-key="${key}"] td[data-col=${col}]`).textContent();
  await until(async () => (await page.locator("#table-staffing tr[data-key]").count()) === 2, "one row per hour with tickets");
  // Counters 1 and 2 opened before nine and stayed open: two counters in both hours.
  assert.equal(await cell("09", "open"), "2.0");
  assert.equal(await cell("10", "open"), "2.0");
  assert.match(await cell("09", "needed"), /^\d+$/);
  assert.equal(await cell("09", "state"), "足够");
  if (await page.locator("#flash").isVisible()) await page.click("#flash .flash-close");
  await page.locator("#table-staffing").scrollIntoViewIfNeeded();
  await screenshot(page, "staffing-report.png");
});
