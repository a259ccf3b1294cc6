//! The manager's page and the counter tablet in a real browser against the real hub: publish a fee
//! and see it on the board, refused changes explained, outage start and end, slow answers of the
//! business system proposed and marked, the report of the hand-worked sample day (figures and
//! charts), CSV export, accounts and device tokens, pairing a counter's rating tablet and one rating
//! on it. Leaves the hall as it found it for the other tests.

import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import { after, before, test } from "node:test";

import { call, hub, launch, managerToken, screenshot, until } from "./harness.mjs";

const SAMPLE_DAY = process.env.HALLQ_SAMPLE_DAY;
let browser;
let page;
let token;
let original;

before(async () => {
  browser = await launch();
  page = await browser.context.newPage();
  page.on("dialog", (d) => d.accept());
  token = await managerToken();
  original = (await call("GET", "/api/v1/config", { token })).body;
});

after(async () => {
  if (original) {
    const r = await call("PUT", "/api/v1/config", { token, body: original });
    assert.equal(r.status, 200, "the hall's configuration is put back");
  }
  await call("DELETE", "/api/v1/outage", { token });
  await call("DELETE", "/api/v1/slow-system", { token });
  if (browser) {
    assert.deepEqual(browser.errors, [], "no script errors on the pages");
    assert.deepEqual(browser.foreign, [], "nothing fetched from outside the hub");
    await browser.close();
  }
});

async function board() {
  const r = await call("GET", "/api/v1/board");
  assert.equal(r.status, 200);
  return r.body;
}

const feeOf = (b, item) => b.notices.fee_schedule.find((f) => f.item.zh === item)?.amount.zh;

test("a clerk's account is refused; the manager signs in", async () => {
  await page.goto(hub.url + "/staff/manager.html");
  await page.locator("#signin-form").waitFor();
  await page.fill("#login", hub.clerk.login);
  await page.fill("#password", hub.clerk.password);
  await page.click("#signin-btn");
  await until(async () => /经理账号/.test(await page.locator("#flash").textContent()), "the refusal");
  assert.equal(await page.locator("#manager").isHidden(), true);

  await page.fill("#login", hub.manager.login);
  await page.fill("#password", hub.manager.password);
  await page.click("#signin-btn");
  await page.locator("#manager").waitFor();
  await until(async () => (await page.locator("#editor input").count()) > 0, "the configuration editor");
  assert.equal(await page.locator(".mg-tab[aria-selected=true]").textContent(), "公示信息");
});

test("a fee changed on the page is on the board at once, and in the audit log", async () => {
  assert.equal(feeOf(await board(), "宽带100M"), "50元/月");
  await page.click("[data-section=fees]");
  const row = page.locator('[data-fees=schedule] .mg-fee').filter({ has: page.locator('input.fee-item[value="宽带100M"]') });
  await row.locator("input.fee-amount").fill("45元/月");
  await row.locator("input.fee-amount-en").fill("45 yuan/month");
  assert.equal(await page.locator("#dirty").isVisible(), true, "unpublished changes are marked");
  await page.click("#publish-save");
  await until(async () => feeOf(await board(), "宽带100M") === "45元/月", "the new fee on the board", 1000);
  await until(async () => await page.locator("#dirty").isHidden(), "the change published");
  await screenshot(page, "manager-publish.png");

  await page.click("[data-tab=audit]");
  const first = page.locator("#audit-table tbody tr").first();
  await until(async () => /修改公示信息/.test(await first.textContent()), "the audit row");
  assert.match(await first.textContent(), new RegExp(hub.manager.login));
  assert.match(await first.textContent(), /收费标准/);
  await first.locator("summary").click();
  assert.match(await first.locator(".mg-diff").textContent(), /50元\/月[\s\S]*45元\/月/, "before and after");
});

test("mistakes are explained before and by the hub, and nothing is published", async () => {
  await page.click("[data-tab=publish]");
  await page.click("[data-section=commitments]");
  await page.locator(".mg-list .mg-row input.zh").first().fill("");
  await page.click("#publish-save");
  await until(async () => /服务承诺第1行的中文不能为空/.test(await page.locator("#publish-error").textContent()), "the page's own check");
  await page.click("#publish-reload");
  await until(async () => await page.locator("#dirty").isHidden(), "reloaded");

  // Two counters with one number: only the hub knows this rule.
  await page.click("[data-section=counters]");
  await page.locator('[data-counter="2"] input[type=number]').fill("1");
  await page.click("#publish-save");
  await until(async () => /未能发布[\s\S]*配置未保存:窗口编号1重复/.test(await page.locator("#publish-error").textContent()), "the hub's refusal in Chinese");
  assert.deepEqual((await board()).notices.fee_schedule, (await call("GET", "/api/v1/config", { token })).body.fee_schedule);
  await page.click("#publish-reload");
  await until(async () => await page.locator("#dirty").isHidden(), "reloaded");
});

test("a service's usual minutes are set on the page, published, and cleared again", async () => {
  await page.click("[data-tab=publish]");
  await page.click("[data-section=services]");
  const account = page.locator('details.mg-service[data-service="account"]');
  if (!(await account.evaluate((d) => d.open))) await account.locator("summary").click();
  const usual = account.locator("input.svc-usual");
  assert.equal(await usual.inputValue(), "", "no figure until the manager gives one");
  await usual.fill("12");
  await page.click("#publish-save");
  const usualOf = async () => (await call("GET", "/api/v1/config", { token })).body.services.find((s) => s.id === "account").usual_minutes;
  await until(async () => (await usualOf()) === 12, "12 minutes published");
  await until(async () => await page.locator("#dirty").isHidden(), "the change published");
  await screenshot(page, "manager-services-usual.png");
  // Out of range: the hub's reason, in Chinese.
  await usual.fill("600");
  await page.click("#publish-save");
  await until(async () => /通常办理时长应为1至240分钟/.test(await page.locator("#publish-error").textContent()), "the hub's refusal");
  assert.equal(await usualOf(), 12);
  // Emptied: back to none.
  await usual.fill("");
  await page.click("#publish-save");
  await until(async () => (await usualOf()) === undefined, "cleared");
  await until(async () => await page.locator("#dirty").isHidden(), "the change published");
});

test("an outage started on the page shows on the board, and ends from the page", async () => {
  await page.click("[data-tab=outage]");
  await page.fill("#out-minutes", "20");
  await page.fill("#out-message", "业务系统升级,请稍候");
  await page.click("#out-start");
  await until(async () => (await board()).mode === "outage", "the board in outage mode", 2000);
  await until(async () => (await page.locator("#board-mode").getAttribute("data-mode")) === "outage", "the page follows");
  assert.match(await page.locator("#outage-now").textContent(), /业务系统升级/);
  assert.equal(await page.isDisabled("#out-start"), true);
  await page.click("#out-end");
  await until(async () => (await board()).mode !== "outage", "the board back to normal", 2000);
  await until(async () => (await page.locator("#board-mode").getAttribute("data-mode")) !== "outage", "the page follows");
  assert.equal((await board()).outage, null);
});

test("slow answers of the business system are proposed on the Outage tab; the manager marks it slow, and ends the mark when quick answers propose it", async () => {
  // A stand-in for the operator's business system whose answers slow down on cue.
  let delayMs = 0;
  const system = http.createServer((req, res) => setTimeout(() => res.end("ok"), delayMs));
  await new Promise((r) => system.listen(0, "127.0.0.1", r));
  try {
    const config = (await call("GET", "/api/v1/config", { token })).body;
    config.probe = { address: `http://127.0.0.1:${system.address().port}/health`, every_s: 1, failures: 2, slow_ms: 300 };
    const put = await call("PUT", "/api/v1/config", { token, body: config });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    await page.click("[data-tab=outage]");
    // The detector looks for a new [probe] every 15 s and the tab refreshes every 10 s.
    await until(async () => /响应 \d+ 毫秒/.test(await page.locator("#probe").textContent()), "a timed answer", 40000);
    delayMs = 600;
    await until(async () => (await page.locator("#probe-slow-proposal").count()) > 0, "the proposal", 20000);
    assert.match(await page.locator("#probe-speed").textContent(), /业务系统响应缓慢[\s\S]*300 毫秒/);
    assert.equal((await board()).slow_since, null, "only proposed: nothing marked by itself");
    await screenshot(page, "manager-probe-slow.png");
    await page.click("#probe-slow-proposal button");
    await until(async () => (await board()).slow_since, "the business system marked slow", 3000);
    await until(async () => (await page.locator("#slow-now").count()) > 0, "the tab shows the mark");
    assert.match(await page.locator("#slow-pace").textContent(), /标记以来尚无办结的业务/);
    // The system answers quickly again: the detector proposes ending the mark the manager made.
    delayMs = 0;
    await until(async () => (await page.locator("#probe-slow-end-proposal").count()) > 0, "ending proposed", 30000);
    assert.match(await page.locator("#probe-slow-end-proposal").textContent(), /最近连续 4 次响应已恢复正常/);
    assert.ok((await board()).slow_since, "proposed, not ended by itself");
    await screenshot(page, "manager-probe-slow-end.png");
    // The counter console says so too, among its alerts.
    const desk = await browser.context.newPage();
    await desk.goto(hub.url + "/staff/");
    await desk.fill("#login", hub.clerk.login);
    await desk.fill("#password", hub.clerk.password);
    await desk.selectOption("#counter-select", "2");
    await desk.click("#signin-btn");
    await desk.locator("#console").waitFor({ state: "visible" });
    await until(async () => (await desk.locator("#alerts .al-slow-quick").count()) > 0, "the console's alert");
    assert.match(await desk.locator("#alerts .al-slow-quick").textContent(), /响应已恢复正常/);
    await screenshot(desk, "staff-console-slow-quick.png");
    await desk.close();
    await page.click("#probe-slow-end-proposal button");
    await until(async () => !(await board()).slow_since, "back to its usual speed", 3000);
    await until(async () => (await page.locator("#probe-slow-end-proposal").count()) === 0, "the proposal gone");
  } finally {
    const config = (await call("GET", "/api/v1/config", { token })).body;
    if (original && original.probe) config.probe = original.probe;
    else delete config.probe;
    await call("PUT", "/api/v1/config", { token, body: config });
    system.closeAllConnections();
    await new Promise((r) => system.close(r));
  }
});

test("the report of the sample day shows the hand-worked figures and draws both charts", async () => {
  assert.ok(SAMPLE_DAY, "run.sh writes the sample day and sets HALLQ_SAMPLE_DAY");
  await page.click("[data-tab=reports]");
  await page.selectOption("#rep-period", "day");
  await page.fill("#rep-date", SAMPLE_DAY);
  await page.click("#report-form button[type=submit]");
  const tile = (k) => page.locator(`[data-metric=${k}] .mg-tile-v`).textContent();
  await until(async () => (await tile("issued")) === "5", "the sample day's report");
  assert.equal(await tile("served"), "4");
  assert.equal(await tile("no_shows"), "1");
  assert.equal(await tile("transfers"), "1");
  assert.equal(await tile("wait_mean"), "7.2");
  assert.match(await page.locator("[data-metric=wait_mean] .mg-tile-s").textContent(), /5\.0.*14\.4/);
  assert.equal(await tile("within"), "80.0%");
  assert.equal(await tile("service_mean"), "8.5");
  assert.equal(await tile("satisfaction"), "66.7%");
  const cell = (table, key, col) => page.locator(`#table-${table} tr[data-key="${key}"] td[data-col=${col}]`).textContent();
  assert.equal(await cell("by_clerk", "li", "served"), "3");
  assert.equal(await cell("by_clerk", "wang", "served"), "1");
  assert.equal(await cell("by_counter", "2", "long_services"), "1");
  // Wang said the business system was slow from 09:06 to 09:26.
  assert.equal(await page.locator(".mg-fact", { hasText: "业务系统缓慢" }).locator("b").textContent(), "1 (20.0 分钟)");

  // Charts: one bar per hour with tickets (09, 10), one row per service with tickets.
  const bars = page.locator("#chart-hours rect.ch-mean");
  assert.equal(await bars.count(), 2);
  const heights = await bars.evaluateAll((rs) => rs.map((r) => Number(r.getAttribute("height"))));
  assert.ok(heights[1] > heights[0] * 2 && heights[1] < heights[0] * 2.2, `10:00 (10.5 min) is 2.1× 09:00 (5 min): ${heights}`);
  assert.equal(await page.locator("#chart-load rect.ch-issued").count(), 3);
  assert.equal(await page.locator("#chart-hours line.ch-target").count(), 1);
  if (await page.locator("#flash").isVisible()) await page.click("#flash .flash-close");
  await screenshot(page, "manager-reports.png");
  await page.locator(".mg-facts").scrollIntoViewIfNeeded();
  await screenshot(page, "manager-reports-incidents.png");

  // The week and month containing it add nothing else.
  await page.selectOption("#rep-period", "month");
  await page.click("#report-form button[type=submit]");
  await until(async () => /至/.test(await page.locator("#rep-meta").textContent()) && (await page.locator("#rep-meta").textContent()).includes(`${SAMPLE_DAY.slice(0, 8)}01`), "the month");
  assert.equal(await tile("issued"), "5");

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#rep-csv")]);
  assert.match(download.suggestedFilename(), /^hallq-report-month-\d{4}-\d{2}-01\.csv$/);
  const csv = fs.readFileSync(await download.path(), "utf8");
  assert.ok(csv.startsWith("\ufeffsection,key,label,metric,value"), csv.slice(0, 80));
});

test("accounts and device tokens are managed on the page", async () => {
  await page.click("[data-tab=accounts]");
  await page.fill("#acc-login", "zhou");
  await page.fill("#acc-password", "short");
  await page.click("#account-form button[type=submit]");
  await until(async () => /至少需要8个字符/.test(await page.locator("#flash").textContent()), "the password rule");
  await page.fill("#acc-password", "a long password");
  await page.click("#account-form button[type=submit]");
  await until(async () => /zhou/.test(await page.locator("#accounts-table").textContent()), "the new account");
  const login = await call("POST", "/api/v1/login", { body: { login: "zhou", password: "a long password" } });
  assert.equal(login.status, 200);

  await page.fill("#dev-name", "tablet-4");
  await page.selectOption("#dev-role", "display");
  await page.click("#device-form button[type=submit]");
  await page.locator("#dev-token-value").waitFor();
  const deviceToken = (await page.locator("#dev-token-value").textContent()).trim();
  assert.equal((await call("GET", "/api/v1/me", { token: deviceToken })).status, 200);
  await page.locator('#devices-table tr:has-text("tablet-4") button').click();
  await until(async () => (await call("GET", "/api/v1/me", { token: deviceToken })).status === 401, "the token revoked");
  await page.locator('#accounts-table tr:has-text("zhou") button').click();
  await until(async () => /已停用/.test(await page.locator('#accounts-table tr:has-text("zhou")').textContent()), "disabled");
});

test("the counter tablet is paired once, then asks for a rating after a finished visit, once", async () => {
  const tablet = await browser.context.newPage();
  await tablet.goto(hub.url + "/rate/4");
  // Not paired: the tablet says how to pair and asks nothing.
  await tablet.locator("#pair").waitFor({ timeout: 5000 });
  assert.match(await tablet.locator("#pair-title").textContent(), /评价器配对/);
  assert.equal(await tablet.locator("#idle").isHidden(), true);
  await tablet.fill("#pair-token", "0".repeat(64));
  await tablet.click("#pair-btn");
  await until(async () => /令牌无效/.test(await tablet.locator("#pair-error").textContent()), "a wrong token refused");
  await screenshot(tablet, "rate-pairing.png");

  // The manager creates counter 4's tablet on the devices section and gets its pairing link.
  await page.click("[data-tab=accounts]");
  await page.fill("#dev-name", "tablet-c4");
  await page.selectOption("#dev-role", "tablet");
  await page.locator("#dev-counter").waitFor();
  await page.selectOption("#dev-counter", "4");
  await page.click("#device-form button[type=submit]");
  await page.locator("#dev-pair-link a").waitFor();
  const link = await page.locator("#dev-pair-link a").getAttribute("href");
  const tabletToken = (await page.locator("#dev-token-value").textContent()).trim();
  assert.equal(link, `${hub.url}/rate/4#pair=${tabletToken}`);
  await until(async () => /评价器 · 4号窗口/.test(await page.locator('#devices-table tr:has-text("tablet-c4")').textContent()), "the tablet in the device list");
  await screenshot(page, "manager-tablet-pairing.png");

  // Pairing: the link's token is kept on the tablet and taken off the address bar.
  await tablet.goto(link);
  await until(async () => /您好/.test(await tablet.locator("#welcome").textContent()) && !(await tablet.locator("#idle").isHidden()), "the idle screen");
  assert.equal(new URL(tablet.url()).hash, "", "the token is not left in the address bar");
  assert.equal(await tablet.evaluate(() => localStorage.getItem("hallq.rate.token")), tabletToken);
  await tablet.reload();
  await until(async () => !(await tablet.locator("#idle").isHidden()), "still paired after a reload");
  assert.equal(await tablet.locator("#ask").isHidden(), true);

  // The visit, served by the manager at counter 4 through the API.
  const act = async (path, body) => {
    const r = await call("POST", `/api/v1/counters/4/${path}`, { token, body });
    assert.ok(r.status < 300, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await act("open");
  const issued = await call("POST", "/api/v1/tickets", { token, body: { service: "consult" } });
  assert.equal(issued.status, 201);
  await act("call", { number: issued.body.number });
  await act("start");
  await act("finish");

  // Nobody but the tablet may rate: not the clerk's PC (the manager served here), not a stranger.
  const byStaff = await call("POST", "/api/v1/ratings", { token, body: { counter: 4, score: 1 } });
  assert.deepEqual([byStaff.status, byStaff.body.error.code], [403, "not_a_tablet"]);
  const byNobody = await call("POST", "/api/v1/ratings", { body: { counter: 4, score: 1 } });
  assert.deepEqual([byNobody.status, byNobody.body.error.code], [401, "tablet_not_paired"]);

  await tablet.locator("#ask").waitFor({ timeout: 5000 });
  assert.equal(await tablet.locator("#ask-title").textContent(), "请为本次服务评价");
  const labels = await tablet.locator(".rt-btn .rt-label").allTextContents();
  assert.deepEqual(labels, ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]);
  assert.ok(!(await tablet.content()).includes(issued.body.number), "no ticket number on the public tablet");
  await screenshot(tablet, "rate-tablet.png");
  await tablet.click(".rt-btn[data-score='4']");
  await tablet.locator("#thanks").waitFor();
  assert.match(await tablet.locator("#thanks-title").textContent(), /感谢您的评价/);
  const prompt = await call("GET", "/api/v1/counters/4/rating-prompt");
  assert.equal(prompt.body.prompt, false, "rated once");
  const again = await call("POST", "/api/v1/ratings", { token: tabletToken, body: { counter: 4, score: 1 } });
  assert.deepEqual([again.status, again.body.error.code], [409, "already_rated"]);

  await tablet.click("#lang");
  await until(async () => /Thank you/.test(await tablet.locator("#thanks-title").textContent()) || /Hello/.test(await tablet.locator("#welcome").textContent()), "English");
  await tablet.click("#lang");

  // Revoked: the tablet goes back to its pairing screen at the next rating.
  await page.locator('#devices-table tr:has-text("tablet-c4") button').click();
  await until(async () => (await call("GET", "/api/v1/me", { token: tabletToken })).status === 401, "the tablet token revoked");
  await tablet.reload();
  await tablet.locator("#pair").waitFor({ timeout: 5000 });
  await act("close");
  await tablet.close();
});

test("the page switches to English", async () => {
  await page.click("#lang-switch");
  await until(async () => (await page.locator("[data-tab=publish]").textContent()) === "Publish", "English tabs");
  assert.equal(await page.locator("[data-tab=reports]").textContent(), "Reports");
  await page.click("#lang-switch");
  await until(async () => (await page.locator("[data-tab=publish]").textContent()) === "公示信息", "Chinese again");
});

test("the page says so while the hall's callback phone numbers go to head office", async () => {
  // This hub ships to no central: nothing to say.
  await page.reload();
  await page.locator("#manager").waitFor();
  await until(async () => (await page.locator("#editor input").count()) > 0, "the page loaded");
  assert.equal(await page.locator("#central-phones").isHidden(), true);
  // As a hub hears it from central's answer (kiosk/hub/tests/phones_ship.rs checks that part).
  await page.route("**/api/v1/central", (route) => route.fulfill({
    json: { central: { url: "https://central.example.cn", shipped_through: 10, behind: 0, failures: 0, batch_limit: 500,
      published: { version: null, applied_at: null, error: null, ask_error: null }, callback_phones: true } },
  }));
  await page.reload();
  await page.locator("#central-phones").waitFor();
  assert.match(await page.locator("#central-phones").textContent(), /回访的电话号码正在上报总部/);
  await screenshot(page, "manager-callback-phones.png");
  await page.unroute("**/api/v1/central");
  await page.reload();
  await page.locator("#manager").waitFor();
  await until(async () => (await page.locator("#editor input").count()) > 0, "the page loaded again");
  assert.equal(await page.locator("#central-phones").isHidden(), true);
});

test("the publish tab says which version of head office's texts the hall runs, and a refusal", async () => {
  assert.equal(await page.locator("#central-published").isHidden(), true, "no central, no line");
  const applied = Date.UTC(2026, 11, 4, 1, 30);
  await page.route("**/api/v1/central", (route) => route.fulfill({
    json: { central: { url: "https://central.example.cn", shipped_through: 10, behind: 0, failures: 0, batch_limit: 500,
      published: { version: 3, applied_at: applied, error: "version 4 refused: 服务项目 \"安装\" 缺少收费标准",
        ask_error: "cannot reach central" }, callback_phones: false } },
  }));
  await page.reload();
  await page.click("[data-tab=publish]");
  await page.locator("#central-published").waitFor();
  const line = await page.locator("#central-published").textContent();
  assert.match(line, /本厅执行第 3 版/);
  assert.match(line, /未被本厅采用:version 4 refused/);
  assert.doesNotMatch(line, /cannot reach central/, "a passing fault is not the hall's business here");
  assert.equal(await page.locator("#central-phones").isHidden(), true);
  await screenshot(page, "manager-central-published.png");
  await page.unroute("**/api/v1/central");
  await page.reload();
  await page.locator("#manager").waitFor();
  await until(async () => (await page.locator("#editor input").count()) > 0, "the page loaded again");
  assert.equal(await page.locator("#central-published").isHidden(), true);
});
