//! The staff pages driven in a real browser against the real hub: sign-in, the caller buttons and
//! keypad, the board following along, transfer, finish, the callback list, and what must be refused.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { call, hub, issueTicket, launch, managerPage, managerToken, screenshot, until } from "./harness.mjs";

const C = hub.clerk.counter;
let browser;
let page;

before(async () => {
  browser = await launch();
  page = await browser.context.newPage();
});

after(async () => {
  if (browser) {
    assert.deepEqual(browser.errors, [], "no script errors on the pages");
    assert.deepEqual(browser.foreign, [], "nothing fetched from outside the hub");
    await browser.close();
  }
});

async function queueOf(token) {
  const r = await call("GET", `/api/v1/counters/${C}/queue`, { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** The clerk's own token, as the page keeps it. */
async function pageToken() {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem("hallq.staff.session")).token);
}

async function current() {
  return (await page.locator("#current-number").textContent()).trim();
}

test("the hub's root leads to the staff pages", async () => {
  const r = await call("GET", "/");
  assert.ok([301, 302, 303, 307, 308].includes(r.status), `status ${r.status}`);
  assert.match(r.headers.get("location") ?? "", /\/staff\/?$/);
  await page.goto(hub.url + "/");
  assert.match(page.url(), /\/staff\/$/);
  await page.locator("#signin-form").waitFor();
});

test("a wrong password is refused with a message in Chinese", async () => {
  await page.fill("#login", hub.clerk.login);
  await page.fill("#password", "not-the-password");
  await page.selectOption("#counter-select", String(C));
  await page.click("#signin-btn");
  const msg = page.locator("#signin .flash");
  await msg.waitFor({ state: "visible" });
  assert.match(await msg.textContent(), /[\u4e00-\u9fff]/, "the refusal is shown in Chinese");
  assert.equal(await page.locator("#console").isHidden(), true);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, "no token kept");
});

test("a clerk signs in at a counter and opens it", async () => {
  await page.fill("#password", hub.clerk.password);
  await page.click("#signin-btn");
  await page.locator("#console").waitFor({ state: "visible" });
  assert.match(await page.locator("#counter-name").textContent(), new RegExp(`${C}`));
  const s = await page.evaluate(() => JSON.parse(sessionStorage.getItem("hallq.staff.session")));
  assert.ok(s.token, "the token is kept in sessionStorage");
  assert.equal(s.counter, C);
  assert.ok(Date.parse(s.expires_at) - Date.now() <= 24 * 3600e3, "a session lasts at most a day");
  // A counter starts the day closed: the one obvious button opens it.
  if ((await page.locator("#counter-state").getAttribute("class")).includes("cs-closed")) {
    await page.click("#btn-close-counter");
  }
  await until(async () => (await page.locator("#counter-state").getAttribute("class")).includes("cs-open"), "the counter to open");
  assert.equal(await page.isDisabled("#btn-next"), true, "nobody waits yet: Call next is disabled");
  assert.equal(await page.isDisabled("#btn-finish"), true, "no current ticket: Finish is disabled");
});

let first;
let second;

test("call next shows the ticket and what to tell the customer; the board follows", async () => {
  // Watch the public event stream from a second tab, as the display board does.
  const board = await browser.context.newPage();
  await board.goto(hub.url + "/staff/callbacks.html"); // any page of the hub's origin
  await board.evaluate(() => {
    window.seen = [];
    const ws = new WebSocket(`ws://${location.host}/api/v1/events`);
    ws.onmessage = (m) => window.seen.push(JSON.parse(m.data));
  });
  await until(() => board.evaluate(() => window.seen.length > 0), "the board snapshot");
  const snapshot = await board.evaluate(() => window.seen[0]);
  assert.equal(snapshot.type, "snapshot");

  first = await issueTicket("pay");
  second = await issueTicket("pay");
  await until(async () => (await page.locator("#queue .q-number").count()) >= 2, "the queue to show both tickets");
  const queued = await page.locator("#queue .q-number").allTextContents();
  assert.ok(queued.includes(first.number) && queued.includes(second.number), queued.join(","));
  assert.equal(await page.isDisabled("#btn-next"), false);
  assert.match(await page.locator("#btn-next").textContent(), new RegExp(first.number), "the button says whom it will call");

  await page.click("#btn-next");
  await until(async () => (await current()) === first.number, `${first.number} at the counter`);
  assert.match(await page.locator("#current-service").textContent(), /缴费/);
  // Rulebook Ch.3 §1.5: documents, fees and the set-top-box reminder are in front of the clerk.
  const tell = await page.locator("#tell").textContent();
  assert.match(tell, /智能卡号/, "documents");
  assert.match(tell, /26元\/月/, "fees");
  assert.match(tell, /机顶盒/, "after-service reminder");
  assert.equal(await page.locator("#timer").isVisible(), true);

  const called = await until(
    () => board.evaluate((n) => window.seen.find((m) => m.type === "update" && m.events.some((e) => e.kind === "called" && e.call.number === n)), first.number),
    "the call on the event stream",
  );
  assert.ok(called.live.counters.some((c) => c.id === C && c.current === first.number));
  const after = await call("GET", "/api/v1/board");
  assert.equal(after.body.calls[0].number, first.number, "the board snapshot shows the call first");
  assert.ok(after.body.seq > snapshot.board.seq);
  await board.close();
});

test("the keypad starts the service; recall and no-show no longer apply", async () => {
  await page.locator("body").click({ position: { x: 5, y: 300 } });
  await page.keyboard.press("Numpad0");
  await until(async () => (await queueOf(await pageToken())).current?.state === "serving", "service to start");
  await until(async () => /办理中/.test(await page.locator("#current-state").textContent()) && !(await page.isDisabled("#btn-finish")), "the page to show the service");
  assert.equal(await page.isDisabled("#btn-recall"), true, "no recall once the customer is here");
  assert.equal(await page.isDisabled("#btn-noshow"), true, "no no-show once the customer is here");
  assert.equal(await page.isDisabled("#btn-start"), true);
});

test("transfer to another service keeps the customer's place", async () => {
  const before = await call("GET", `/api/v1/tickets/${first.number}`);
  await page.keyboard.press("t");
  const dialog = page.locator("#transfer-dialog");
  await dialog.waitFor({ state: "visible" });
  await dialog.getByRole("button", { name: /咨询/ }).click();
  await until(async () => (await current()) === "—", "the counter to be free after the transfer");
  const status = await call("GET", `/api/v1/tickets/${first.number}`);
  assert.equal(status.body.state, "waiting");
  assert.equal(status.body.service, "consult");
  assert.equal(status.body.issued_at, before.body.issued_at, "the original ticket time is kept");
  await until(async () => (await page.locator("#result").textContent()).includes(first.number), "the result line");
});

test("the transferred ticket is called by its number on the keypad, then finished with *", async () => {
  const row = page.locator("#queue .q-item", { hasText: first.number });
  await row.waitFor();
  assert.match(await row.textContent(), /咨询/);
  assert.match(await row.textContent(), /转入/, "marked as transferred");
  const digits = String(Number(first.number.replace(/^\D+/, "")));
  for (const d of digits) await page.keyboard.press(`Numpad${d}`);
  assert.match(await page.locator("#keypad-entry").textContent(), new RegExp(first.number));
  await page.keyboard.press("NumpadEnter");
  await until(async () => (await current()) === first.number, `${first.number} called by number`);
  await page.keyboard.press("NumpadMultiply");
  await until(async () => (await current()) === "—", "the ticket to be finished");
  const status = await call("GET", `/api/v1/tickets/${first.number}`);
  assert.equal(status.body.state, "finished");
});

test("call next, then no-show with /; the queue empties", async () => {
  await page.waitForTimeout(1600); // past the guard against a bouncing key
  await page.keyboard.press("NumpadAdd");
  await until(async () => (await current()) === second.number, `${second.number} called`);
  await page.keyboard.press("NumpadDivide");
  await until(async () => (await current()) === "—", "the no-show to be recorded");
  assert.equal((await call("GET", `/api/v1/tickets/${second.number}`)).body.state, "no_show");
  assert.equal(await page.isDisabled("#btn-next"), true, "nobody waits: Call next is disabled again");
});

test("pause and resume from the keyboard", async () => {
  await page.keyboard.press("p");
  await until(async () => (await page.locator("#counter-state").getAttribute("class")).includes("cs-paused"), "paused");
  assert.equal(await page.isDisabled("#btn-call-number"), true);
  await page.keyboard.press("p");
  await until(async () => (await page.locator("#counter-state").getAttribute("class")).includes("cs-open"), "open again");
});

test("a clerk says the business system is slow, and later that it is back to speed", async () => {
  const btn = page.locator("#btn-slow-system");
  assert.match(await btn.textContent(), /业务系统缓慢/);
  page.once("dialog", (d) => d.accept());
  await btn.click();
  await until(async () => (await page.locator("#alerts .al-slow").count()) === 1, "the slow-system alert, live");
  assert.match(await page.locator("#alerts .al-slow").textContent(), /预计等候已按较长的办理时间计算/);
  assert.match(await btn.textContent(), /恢复正常/);
  const board = await call("GET", "/api/v1/board");
  assert.ok(board.body.slow_since, JSON.stringify(board.body).slice(0, 300));
  // A customer served since the mark: the alert says how long against before it.
  const served = await issueTicket("pay");
  await page.waitForTimeout(1600); // past the guard against a bouncing key
  await page.keyboard.press("NumpadAdd");
  await until(async () => (await current()) === served.number, `${served.number} called`);
  await page.keyboard.press("Numpad0");
  await until(async () => /办理中/.test(await page.locator("#current-state").textContent()), "serving");
  // A service counts as at least 10 seconds (shorter is taken for a mis-press), so this one ends
  // 10 seconds after the mark or more, to have begun after it.
  await page.waitForTimeout(Math.max(0, Date.parse(board.body.slow_since) + 10500 - Date.now()));
  await page.keyboard.press("NumpadMultiply");
  await until(async () => (await current()) === "—", "finished");
  await until(async () => /标记以来办结 1 位,用时(约为标记前的 [\d.]+ 倍|比标记前还短)\(人数尚少,仅供参考\)/.test(await page.locator("#alerts .al-slow").textContent()), "the pace since the mark");
  await screenshot(page, "staff-slow-system.png");
  await btn.click();
  await until(async () => (await page.locator("#alerts .al-slow").count()) === 0, "the alert gone");
  assert.match(await btn.textContent(), /业务系统缓慢/);
  assert.equal((await call("GET", "/api/v1/board")).body.slow_since, null);
});

test("a clerk cannot act on another counter", async () => {
  const other = C === 1 ? 2 : 1;
  const r = await page.evaluate(async (other) => {
    const s = JSON.parse(sessionStorage.getItem("hallq.staff.session"));
    const res = await fetch(`/api/v1/counters/${other}/next`, { method: "POST", headers: { Authorization: `Bearer ${s.token}` } });
    return { status: res.status, body: await res.json().catch(() => null) };
  }, other);
  assert.equal(r.status, 403, JSON.stringify(r.body));
  assert.ok(r.body?.error?.code, "a refusal carries a code");
});

test("the console switches to English", async () => {
  await issueTicket("account");
  await page.click("#lang-switch");
  await until(async () => /Call next/.test(await page.locator("#btn-next").textContent()), "English labels");
  assert.match(await page.locator("#legend").textContent(), /call next/);
  await until(async () => !(await page.isDisabled("#btn-next")), "the new ticket in the queue");
  await page.keyboard.press("NumpadAdd");
  await until(async () => (await current()) !== "—", "a call");
  await screenshot(page, "staff-console-en.png");
  await page.click("#lang-switch");
  await until(async () => /叫下一位/.test(await page.locator("#btn-next").textContent()), "Chinese again");
});

test("a callback captured through the API is resolved on the callback list", async () => {
  const phone = "13912345678";
  const cap = await call("POST", "/api/v1/callbacks", {
    token: hub.kioskToken,
    body: { phone, consent: true, reason: "宽带无法上网", address: "温泉镇东门路12号" },
  });
  assert.equal(cap.status, 201, JSON.stringify(cap.body));
  assert.ok(!JSON.stringify(cap.body).includes(phone), "the kiosk only gets the masked number back");
  await call("POST", "/api/v1/callbacks", { token: hub.kioskToken, body: { phone: "0713-7654321", consent: true, reason: "缴费咨询" } });

  await page.goto(hub.url + "/staff/callbacks.html");
  const card = page.locator(`[data-cb="${cap.body.id}"]`);
  await card.waitFor();
  assert.match(await card.locator(".cb-phone").textContent(), new RegExp(phone), "staff see the full number");
  assert.match(await card.textContent(), /宽带无法上网/);
  assert.match(await card.textContent(), /温泉镇/);
  assert.equal(await card.locator('[data-act="resolve"]').isDisabled(), true, "resolving needs a note");

  await card.locator("textarea").fill("已联系客户,约定今天下午再确认");
  await card.locator('[data-act="contacted"]').click();
  await until(async () => /已联系/.test(await page.locator(`[data-cb="${cap.body.id}"] .status`).textContent()), "contacted");
  assert.match(await page.locator(`[data-cb="${cap.body.id}"]`).textContent(), /约定今天下午再确认/, "the note is on the card");
  const again = page.locator(`[data-cb="${cap.body.id}"]`);
  await again.locator("textarea").fill("已回电,宽带已恢复");
  await again.locator('[data-act="resolve"]').click();
  await until(async () => (await page.locator(`[data-cb="${cap.body.id}"]`).count()) === 0, "the resolved callback to leave the open list");

  const list = await call("GET", "/api/v1/callbacks", { token: await pageToken() });
  const items = Array.isArray(list.body) ? list.body : list.body.callbacks;
  const cb = items.find((c) => c.id === cap.body.id);
  assert.equal(cb.status, "resolved");
  assert.equal(cb.owner, hub.clerk.login);
  assert.ok(cb.notes.some((n) => n.text.includes("宽带已恢复")));

  await page.click('[data-filter="resolved"]');
  await page.locator(`[data-cb="${cap.body.id}"]`).waitFor();
  await page.click('[data-filter="open"]');
});

test("a suggestion left with a number is called back and answered on the suggestion list", async () => {
  const phone = "13612345678";
  const left = await call("POST", "/api/v1/suggestions", { token: hub.kioskToken, body: { text: "等候时间太长；希望增加服务窗口", contact: phone } });
  assert.equal(left.status, 201, JSON.stringify(left.body));
  await page.goto(hub.url + "/staff/suggestions.html");
  const card = page.locator(`[data-sg="${left.body.id}"]`);
  await card.waitFor();
  assert.equal(await card.locator(".cb-phone").textContent(), "136****5678", "the list shows the number masked");
  assert.ok(!(await page.content()).includes(phone), "no full number on the list");
  assert.match(await card.textContent(), /希望增加服务窗口/);
  await card.locator('[data-act="answered"]').click();
  await until(async () => /填写答复/.test(await page.locator(".flash").first().textContent()), "a reply is needed");
  await card.locator('[data-act="show"]').click();
  await until(async () => (await card.locator("a.cb-phone").count()) === 1, "the full number to call");
  assert.equal(await card.locator("a.cb-phone").getAttribute("href"), `tel:${phone}`);
  await screenshot(page, "suggestions.png");
  await card.locator("textarea").fill("已回电：午间高峰加开一个缴费窗口");
  await card.locator('[data-act="answered"]').click();
  await until(async () => (await page.locator(`[data-sg="${left.body.id}"]`).count()) === 0, "the answered suggestion to leave the new list");
  await page.click('[data-filter="answered"]');
  const done = page.locator(`[data-sg="${left.body.id}"]`);
  await done.waitFor();
  assert.match(await done.textContent(), /午间高峰加开/);
  assert.match(await done.textContent(), new RegExp(hub.clerk.login));
  assert.equal(await done.locator(".cb-phone").textContent(), "136****5678", "masked again once handled");
  const audit = await call("GET", "/api/v1/audit", { token: await managerToken() });
  const actions = audit.body.map((a) => a.action);
  for (const a of ["suggestions_viewed", "suggestion_contact_viewed", "suggestion_handled"]) assert.ok(actions.includes(a), a);
});

test("an outage shows on the console; when it ends, its callbacks are put in front of the staff", async () => {
  const manager = await managerToken();
  await page.goto(hub.url + "/staff/");
  await page.locator("#console").waitFor({ state: "visible" });
  const started = await call("POST", "/api/v1/outage", { token: manager, body: { expected_minutes: 60, message: "业务系统升级" } });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  await until(async () => (await page.locator("#alerts .al-outage").count()) === 1, "the outage alert, live");
  assert.match(await page.locator("#alerts").textContent(), /故障/);

  const during = [];
  for (const [phone, reason, address] of [["13700001111", "宽带开户未能办理", "城关镇北门街8号"], ["15811112222", "缴费未能到账", null]]) {
    const r = await call("POST", "/api/v1/callbacks", { token: hub.kioskToken, body: { phone, consent: true, reason, ...(address ? { address } : {}) } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    during.push(r.body.id);
  }
  const ended = await call("DELETE", "/api/v1/outage", { token: manager });
  assert.equal(ended.status, 204, JSON.stringify(ended.body));

  const alert = page.locator("#alerts .al-outage-ended");
  await alert.waitFor();
  // The count comes with the alerts' next fetch after the stream said the outage ended.
  await until(async () => /2位客户等待回电/.test(await alert.textContent()), "both callers waiting");
  assert.equal(await page.locator("#alerts .al-outage").count(), 0, "the outage alert is gone");
  assert.match(await page.locator("#callbacks-badge").textContent(), /\d/);

  await alert.getByRole("link").click();
  await page.locator("#banner").waitFor({ state: "visible" });
  assert.match(await page.locator("#banner").textContent(), /2 位客户/);
  const firstTwo = await page.locator("#list [data-cb]").evaluateAll((els) => els.slice(0, 2).map((e) => Number(e.dataset.cb)));
  assert.deepEqual(firstTwo.sort(), [...during].sort(), "the outage's callers come first");
  await screenshot(page, "staff-callbacks.png");
  await page.click("#lang-switch");
  await until(async () => /Open/.test(await page.locator("#tabs").textContent()), "English tabs");
  assert.match(await page.locator("#banner").textContent(), /business system is back/);
  await screenshot(page, "staff-callbacks-en.png");
  await page.click("#lang-switch");
  await until(async () => /未办结/.test(await page.locator("#tabs").textContent()), "Chinese tabs");
});

test("the console at a busy moment: priority marks, alerts, the service timer turning amber then red", async () => {
  await call("PUT", "/api/v1/kiosk/status", { token: hub.kioskToken, body: { printer: "paper_low" } });
  for (const [service, priority] of [["account", false], ["pay", false], ["consult", false], ["pay", true], ["account", false], ["pay", false]]) {
    await issueTicket(service, priority);
  }
  // The page's clock, so that minutes can pass in a moment. It runs on from the real time.
  await page.clock.install();
  await page.goto(hub.url + "/staff/");
  await page.locator("#console").waitFor({ state: "visible" });
  await until(async () => (await page.locator("#queue .q-item").count()) >= 6, "the queue");
  assert.equal(await page.locator("#queue .q-priority").count(), 1, "the priority ticket is marked");
  assert.match(await page.locator("#queue .q-item").first().textContent(), /优先/, "and called first");
  assert.match(await page.locator("#alerts").textContent(), /打印纸即将用完/);
  assert.match(await page.locator("#alerts").textContent(), /回访待处理/);
  // A long wait with nobody in line says why (the counters call other services first), not "0 waiting".
  assert.doesNotMatch(await page.locator("#alerts").textContent(), /:0人等候/);
  if (await current() !== "—") {
    await page.keyboard.press("NumpadMultiply");
    await until(async () => (await current()) === "—", "the counter free");
  }
  await page.waitForTimeout(1600);
  await page.keyboard.press("NumpadAdd");
  await until(async () => (await current()) !== "—", "a call");
  await page.keyboard.press("Numpad0");
  await until(async () => /办理中/.test(await page.locator("#current-state").textContent()), "serving");
  assert.match(await page.locator("#timer").getAttribute("class"), /timer-ok/);
  // Minutes pass on the page's clock. Any answer of the hub with a Date header sets the page's clock
  // back by the hub's, and the console asks the hub on a timer of its own (which the jump fires),
  // so the hub's answers lose their Date header for the rest of this test; and as the hub may send
  // an update at any time, move on again until the timer shows it.
  const noDate = async (route) => {
    const r = await route.fetch();
    const headers = { ...r.headers() };
    delete headers.date;
    await route.fulfill({ response: r, headers });
  };
  await page.route("**/api/v1/**", noDate);
  const timerAfter = async (jump, cls, text) => {
    const log = [];
    for (let i = 0; i < 5; i++) {
      await page.clock.fastForward(jump);
      const seen = await page.locator("#timer").evaluate((el) => ({ cls: el.className, text: el.textContent, now: Date.now() }));
      if (seen.cls.includes(cls) && text.test(seen.text)) return seen;
      log.push(seen);
    }
    throw new Error(`the timer never showed ${cls} ${text}: ${JSON.stringify(log)}`);
  };
  await timerAfter("11:00", "timer-amber", /1[0-4]:\d\d/);
  await page.keyboard.press("Numpad1");
  await page.keyboard.press("Numpad2");
  await screenshot(page, "staff-console.png");
  await timerAfter("05:00", "timer-red", /(1[5-9]|[2-9]\d):\d\d/);
  await page.keyboard.press("Escape");
  assert.equal((await page.locator("#keypad-entry").textContent()).trim(), "", "Esc clears the typed digits");
  await page.unroute("**/api/v1/**", noDate);
});

test("digits that match two tickets (A003, B003) offer a numbered choice", async () => {
  const numbers = await page.locator("#queue .q-number").allTextContents();
  const bySeq = new Map();
  for (const n of numbers) {
    const seq = String(Number(n.replace(/^\D+/, "")));
    bySeq.set(seq, [...(bySeq.get(seq) ?? []), n]);
  }
  const [seq, both] = [...bySeq].find(([, ns]) => ns.length >= 2) ?? [];
  assert.ok(seq, `two waiting tickets share a number: ${numbers.join(",")}`);
  for (const d of seq) await page.keyboard.press(`Numpad${d}`);
  await page.keyboard.press("NumpadEnter");
  const pick = page.locator("#pick-dialog");
  await pick.waitFor({ state: "visible" });
  const offered = await pick.locator(".choice").allTextContents();
  assert.equal(offered.length, both.length);
  const chosen = both.find((n) => offered[1].includes(n));
  await page.keyboard.press("Numpad2");
  await until(async () => (await current()) === chosen, `${chosen} called from the choice`);
  assert.equal(await pick.isVisible(), false);
});

test("a slow mark left on while the counter serves at its usual speed again is proposed for ending", async () => {
  // After the tests that count on the numbers waiting: thirty tickets move them on.
  const token = await pageToken();
  await call("POST", `/api/v1/counters/${C}/finish`, { token });
  const btn = page.locator("#btn-slow-system");
  page.once("dialog", (d) => d.accept());
  await btn.click();
  await until(async () => (await page.locator("#alerts .al-slow").count()) === 1, "the slow-system alert");
  const since = (await call("GET", "/api/v1/board")).body.slow_since;
  // A service counts as 10 s at least (shorter is a mis-press), so the first is finished 10 s
  // after the mark or more, to have begun after it; each counts as far quicker than the usual.
  await page.waitForTimeout(Math.max(0, Date.parse(since) + 10500 - Date.now()));
  for (let i = 0; i < 30; i++) {
    // Issued by the clerk (the kiosk's limit of tickets a minute is for a stuck button), and
    // called by number: the customers already waiting stay where they are.
    const t = await call("POST", "/api/v1/tickets", { token, body: { service: "pay", priority: false } });
    assert.ok(t.status < 300, `issue: ${t.status} ${JSON.stringify(t.body)}`);
    for (const [step, body] of [["call", { number: t.body.number }], ["start"], ["finish"]]) {
      const r = await call("POST", `/api/v1/counters/${C}/${step}`, { token, body });
      assert.ok(r.status < 300, `${step}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  }
  await until(async () => (await page.locator("#alerts .al-slow-usual").count()) === 1, "ending the mark proposed", 25000);
  assert.match(await page.locator("#alerts .al-slow-usual").textContent(), /最近办结的业务用时(已与标记前相当\(约 [\d.]+ 倍\)|已不比标记前长)。若业务系统确已恢复/);
  assert.ok((await call("GET", "/api/v1/board")).body.slow_since, "proposed, not ended by itself");
  await screenshot(page, "staff-slow-usual.png");
  // The manager's Outage tab proposes it too (no detector is configured).
  const manager = await managerPage(browser.context);
  await manager.click("[data-tab=outage]");
  await until(async () => (await manager.locator("#pace-slow-end-proposal").count()) > 0, "the Outage tab's proposal", 15000);
  assert.match(await manager.locator("#pace-slow-end-proposal").textContent(), /最近办结的业务用时(已与标记前相当|已不比标记前长)[\s\S]*建议解除标记/);
  assert.match(await manager.locator("#slow-pace").textContent(), /标记以来办结 30 位/);
  await screenshot(manager, "manager-slow-usual.png");
  await manager.close();
  await btn.click();
  await until(async () => (await page.locator("#alerts .al-slow").count()) === 0, "the alert gone");
});

test("a session ended elsewhere brings the clerk back to sign-in with a message", async () => {
  const token = await pageToken();
  assert.equal((await call("POST", "/api/v1/logout", { token })).status, 204);
  await issueTicket("pay"); // any change: the page refetches and learns its token is gone
  await page.locator("#signin").waitFor({ state: "visible" });
  assert.match(await page.locator("#signin .flash").textContent(), /重新登录/);
  assert.equal(await page.locator("#console").isHidden(), true);
  // Sign in again for what follows.
  await page.fill("#password", hub.clerk.password);
  await page.click("#signin-btn");
  await page.locator("#console").waitFor({ state: "visible" });
});

test("the callback list needs a signed-in clerk", async () => {
  await page.goto(hub.url + "/staff/callbacks.html");
  await page.locator("#callbacks").waitFor({ state: "visible" });
  const r = await call("GET", "/api/v1/callbacks");
  assert.equal(r.status, 401);
  await page.click("#sign-out");
  await page.locator("#signin-form").waitFor({ state: "visible" });
  assert.equal(await page.locator(".cb-phone").count(), 0, "no numbers left on screen");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("hallq.staff.session")), null);
});

test("the console tells the clerk when the hub's clock or disk is wrong", async () => {
  // The hub's own findings are tested on the hub (a clock a day behind, a full disk); here the
  // console shows what `/alerts` says, so the answer is the real one with both problems added.
  await page.route("**/api/v1/alerts", async (route) => {
    const real = await route.fetch();
    const body = await real.json();
    body.clock = { ...body.clock, problem: { zh: "系统时钟显示 2026-12-03，早于营业日 2026-12-04：请校准时间（检查网络时间同步）。取号照常，号码记在 2026-12-04。", en: "The clock reads 2026-12-03, before the business day 2026-12-04." } };
    body.storage = { ...body.storage, problem: { zh: "系统存储空间已满，已暂停取号（已取的号码不受影响）：请联系管理员清理数据分区。", en: "The hall system's storage is full." } };
    await route.fulfill({ response: real, json: body });
  });
  await page.goto(hub.url + "/staff/");
  if (await page.locator("#signin-form").isVisible()) {
    await page.fill("#login", hub.clerk.login);
    await page.fill("#password", hub.clerk.password);
    await page.selectOption("#counter-select", String(C));
    await page.click("#signin-btn");
  }
  await page.locator("#console").waitFor({ state: "visible" });
  await until(async () => (await page.locator("#alerts .al-clock").count()) === 2, "the clock and storage alerts");
  const text = await page.locator("#alerts").textContent();
  assert.match(text, /早于营业日/);
  assert.match(text, /存储空间已满/);
  assert.doesNotMatch(await page.locator("#tell").textContent(), /null|undefined/, "no absent field written out");
  await screenshot(page, "staff-clock-storage-alerts.png");
  // A poll of `/alerts` may be in the handler still: let it finish before the browser closes.
  await page.unrouteAll({ behavior: "wait" });
});
