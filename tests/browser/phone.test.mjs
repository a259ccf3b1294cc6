//! The customer's phone, in a phone-sized Chromium with touch: take a ticket from the code the
//! kiosk shows, watch it move as the clerk calls, see the call screen, reopen the page, a second
//! phone, an expired code refused, the outage notice. Uses the repair service and counter 3, which
//! the other tests leave alone, and leaves them empty and closed.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { call, hub, issueTicket, launch, managerToken, screenshot, until } from "./harness.mjs";

const COUNTER = 3;
let phoneA;
let phoneB;
let token;

before(async () => {
  phoneA = await launch({ phone: true });
  phoneB = await launch({ phone: true });
  token = await managerToken();
});

after(async () => {
  if (token) {
    await call("DELETE", "/api/v1/outage", { token });
    for (let i = 0; i < 20; i++) {
      const next = await call("POST", `/api/v1/counters/${COUNTER}/next`, { token });
      if (next.status >= 300) break;
      await call("POST", `/api/v1/counters/${COUNTER}/no-show`, { token });
    }
    await call("POST", `/api/v1/counters/${COUNTER}/close`, { token });
  }
  for (const b of [phoneA, phoneB]) {
    if (!b) continue;
    assert.deepEqual(b.errors, [], "no script errors on the phone pages");
    assert.deepEqual(b.foreign, [], "nothing fetched from outside the hub");
    await b.close();
  }
});

async function codeNow() {
  const r = await call("GET", "/api/v1/phone/code", { token: hub.kioskToken });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** Take a repair ticket on `browser`'s phone; the page it lands on. */
async function takeRepair(browser, shot) {
  const code = await codeNow();
  const page = await browser.context.newPage();
  await page.goto(hub.url + code.path);
  const tile = page.locator('.service[data-service="repair"]');
  await tile.waitFor();
  if (shot) await screenshot(page, "phone-services.png");
  await tile.tap();
  await page.locator("#take").waitFor();
  assert.match(await page.locator(".detail").textContent(), /请带齐|费用|等候/);
  if (shot) await screenshot(page, "phone-service.png");
  await page.locator("#take").tap();
  await page.waitForURL(/\/t\/C\d+$/);
  await page.locator("#number").waitFor();
  return page;
}

test("a phone takes a ticket from the code and follows it until it is called", async () => {
  // Someone with a paper ticket is ahead.
  const paper = await issueTicket("repair");
  const page = await takeRepair(phoneA, true);
  const number = (await page.locator("#number").textContent()).trim();
  assert.match(number, /^C\d+$/);
  assert.notEqual(number, paper.number);
  assert.equal(await page.locator("#state").textContent(), "等候中");
  await until(async () => /实时更新中/.test(await page.locator("#live").textContent()), "the page live");
  const ahead = Number(await page.locator("#ahead b").textContent());
  assert.ok(ahead >= 1, `the paper ticket is ahead: ${ahead}`);
  assert.match(await page.locator("#wait").textContent(), /分钟|无需等候/);
  await screenshot(page, "phone-ticket.png");

  // The clerk at counter 3 calls the line; the page follows without a reload.
  const open = await call("POST", `/api/v1/counters/${COUNTER}/open`, { token });
  assert.equal(open.status, 200, JSON.stringify(open.body));
  await page.evaluate(() => { window.__notReloaded = true; });
  for (let i = 0; i < 20; i++) {
    const next = await call("POST", `/api/v1/counters/${COUNTER}/next`, { token });
    assert.equal(next.status, 200, JSON.stringify(next.body));
    if (next.body.ticket?.number === number || next.body.number === number || JSON.stringify(next.body).includes(`"${number}"`)) break;
    await until(async () => (await page.locator("#near").count()) === 1 || (await page.locator("#called").count()) === 1, "the 'nearly your turn' notice");
    await call("POST", `/api/v1/counters/${COUNTER}/finish`, { token });
  }
  await until(async () => (await page.locator("#called").count()) === 1, "the call screen");
  assert.match(await page.locator("#called").textContent(), /请到 3号窗口/);
  assert.equal(await page.evaluate(() => window.__notReloaded), true, "pushed, not reloaded");
  await screenshot(page, "phone-called.png");

  // Closed and opened again, the page still knows the ticket.
  await page.close();
  const again = await phoneA.context.newPage();
  await again.goto(hub.url + (await codeNow()).path);
  await again.locator("#my-ticket").waitFor();
  assert.match(await again.locator("#my-ticket").textContent(), new RegExp(number));
  await again.locator("#my-ticket").tap();
  await again.waitForURL(new RegExp(`/t/${number}$`));
  await until(async () => (await again.locator("#called").count()) === 1, "the call screen again");
  await again.locator("#called button").tap();
  await call("POST", `/api/v1/counters/${COUNTER}/no-show`, { token });
  await until(async () => (await again.locator("#missed").count()) === 1, "what to do after a missed call");
  await screenshot(again, "phone-missed.png");
  await again.close();
});

test("one waiting ticket per phone; a second phone takes its own", async () => {
  const a = await takeRepair(phoneA, false);
  const first = (await a.locator("#number").textContent()).trim();
  // The same phone again: refused, with its ticket named.
  const code = await codeNow();
  const again = await phoneA.context.newPage();
  await again.goto(hub.url + code.path);
  await again.locator('.service[data-service="repair"]').tap();
  await again.locator("#take").tap();
  await again.locator("#error").waitFor();
  assert.match(await again.locator("#error").textContent(), new RegExp(`${first}`));
  // Another phone.
  const b = await takeRepair(phoneB, false);
  const second = (await b.locator("#number").textContent()).trim();
  assert.notEqual(second, first);
  assert.equal(Number(await b.locator("#ahead b").textContent()) >= 1, true);
  for (const p of [a, again, b]) await p.close();
});

test("an expired code is refused with a clear message, and an outage is said", async () => {
  const page = await phoneB.context.newPage();
  await page.goto(hub.url + "/p/ABCDEFGH");
  await page.locator("#error").waitFor();
  assert.match(await page.locator("#error").textContent(), /二维码已过期,请重新扫描/);
  await screenshot(page, "phone-expired.png");

  const started = await call("POST", "/api/v1/outage", { token, body: { expected_minutes: 30, message: "业务系统故障,部分业务暂停" } });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  await page.goto(hub.url + (await codeNow()).path);
  await page.locator("#outage").waitFor();
  assert.match(await page.locator("#outage").textContent(), /业务系统故障/);
  // The callback offer: consent first, then the number comes back masked.
  await page.locator("#callback-phone").fill("13912345678");
  await page.locator("#callback-send").tap();
  await page.locator("#callback-error").waitFor();
  assert.match(await page.locator("#callback-error").textContent(), /同意/);
  await page.locator("#callback-consent").check();
  await screenshot(page, "phone-outage.png");
  await page.locator("#callback-send").tap();
  await page.locator("#callback-done").waitFor();
  const done = await page.locator("#callback-done").textContent();
  assert.match(done, /已登记 139\*+5678/);
  assert.doesNotMatch(done, /13912345678/);
  await screenshot(page, "phone-callback-done.png");
  await call("DELETE", "/api/v1/outage", { token });
  await page.close();
});
