//! Central's pages in a real browser: a PostgreSQL cluster and hallq-central of the test's own (on
//! loopback ports, thrown away after), halls registered and shipping a day, then head office signs
//! in, sees the halls (two of them reporting trouble with the business system at once, then the
//! page reloading itself when one recovers), the league table and its CSV, the callbacks open,
//! reads a phone number head office keeps for one hall (audited), and publishes a document (a
//! refused one first).
//! Screenshots go to HALLQ_SHOTS (tests/browser/out/ through run.sh).

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const PG_BIN = process.env.HALLQ_PG_BIN ?? "/usr/lib/postgresql/15/bin";
const CENTRAL = process.env.HALLQ_CENTRAL_BIN ?? path.join(root, "target/debug/hallq-central");
const SHOTS = process.env.HALLQ_SHOTS ?? null;
const OPERATOR = { login: "zongbu", password: `pw-${process.pid}-central-browser` };

// Without PostgreSQL the test is skipped, except in CI, where that is a failure.
let missing = null;
if (!fs.existsSync(path.join(PG_BIN, "initdb"))) missing = `PostgreSQL 15 is not installed (${PG_BIN}/initdb)`;
else if (!fs.existsSync(CENTRAL)) missing = `hallq-central is not built (${CENTRAL}): cargo build -p hallq-central`;
if (missing && process.env.CI === "true") throw new Error(missing);
const skip = missing ? `${missing}; with CI=true this is a failure` : false;

const isRoot = process.getuid?.() === 0;
let dir;
let pgPort;
let central;
let url;
let browser;
let profile;
let page;
const credentials = {};
const errors = [];
const foreign = [];

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** A PostgreSQL program, as the postgres user when the test runs as root (PostgreSQL refuses root). */
function pg(program, args) {
  const bin = path.join(PG_BIN, program);
  return isRoot
    ? execFileSync("runuser", ["-u", "postgres", "--", bin, ...args], { stdio: "pipe" })
    : execFileSync(bin, args, { stdio: "pipe" });
}

function db() {
  return `host=127.0.0.1 port=${pgPort} user=postgres dbname=postgres`;
}

function centralCli(args, input = "") {
  return execFileSync(CENTRAL, args, { input, env: { ...process.env, HALLQ_CENTRAL_DB: db() }, stdio: ["pipe", "pipe", "pipe"] }).toString();
}

/** A shipped business day of a hall: `n` tickets, waits spread around 15 minutes, a rating each. */
function hallDay(day, n, seed) {
  const base = Date.parse(`${day}T01:00:00Z`); // 09:00 in Shanghai
  const events = [];
  const tickets = [];
  const ratings = [];
  let x = seed;
  const rnd = (m) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % m;
  };
  const push = (at, counter, kind) => events.push({ seq: events.length + 1, day, at, actor: "clerk1", counter, kind });
  push(base - 600000, null, { type: "day_started", day });
  for (let i = 0; i < n; i++) {
    const number = `B${String(i + 1).padStart(3, "0")}`;
    const issued = base + i * 120000;
    const called = issued + rnd(25 * 60) * 1000;
    const finished = called + (60 + rnd(600)) * 1000;
    const counter = 1 + (i % 2);
    push(issued, null, { type: "ticket_issued", ticket: { number, service: "pay" } });
    push(called, counter, { type: "ticket_called", number, service: "pay", counter, apology: false, specific: false });
    push(finished, counter, { type: "ticket_finished", number, counter, service_secs: Math.round((finished - called) / 1000) });
    tickets.push({
      day, number, service: "pay", first_service: "pay", state: "finished", counter, issued_at: issued,
      first_called_at: called, called_at: called, started_at: called + 5000, finished_at: finished,
      transfers: 0, estimated_wait_s: 600,
    });
    ratings.push({ day, number, counter, score: 3 + rnd(3), at: finished + 5000 });
  }
  return { events, tickets, ratings };
}

async function ship(hall, batch) {
  const r = await fetch(url + "/api/v1/ship", {
    method: "POST",
    headers: { Authorization: `Bearer ${credentials[hall]}`, "Content-Type": "application/json" },
    body: JSON.stringify({ version: 1, hub: "0.2.0", ...batch }),
  });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text);
}

async function shot(name) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name), fullPage: true });
}

const DAY = new Date(Date.now() - 2 * 86400000).toISOString().slice(0, 10);
// The halls are on a later day than the one they ship, so that central rolls it up with its
// batch (a hall's current day waits for the refresh `serve` runs about once a minute).
const LATER = new Date(Date.now() - 86400000).toISOString().slice(0, 10);

/// Start `hallq-central serve` on `url`'s port and wait until it answers.
async function startCentral() {
  const log = fs.openSync(path.join(dir, "central.log"), "a");
  central = spawn(CENTRAL, ["serve", "--listen", url.replace("http://", "")], {
    env: { ...process.env, HALLQ_CENTRAL_DB: db() },
    stdio: ["ignore", log, log],
  });
  const end = Date.now() + 30000;
  for (;;) {
    try {
      if ((await fetch(url + "/healthz")).ok) break;
    } catch {}
    if (Date.now() > end) throw new Error("hallq-central did not start: " + fs.readFileSync(path.join(dir, "central.log"), "utf8"));
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(isRoot ? "/tmp" : os.tmpdir(), "hallq-central-browser-"));
  if (isRoot) execFileSync("chown", ["-R", "postgres:postgres", dir]);
  pgPort = await freePort();
  const data = path.join(dir, "data");
  pg("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
  pg("pg_ctl", ["-D", data, "-l", path.join(dir, "pg.log"), "-w", "-t", "60", "-o",
    `-k ${dir} -p ${pgPort} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"]);

  centralCli(["operator", "add", OPERATOR.login], OPERATOR.password + "\n");
  for (const [hall, group] of [["城东营业厅", "县城"], ["石头咀服务点", "乡镇"], ["草盘地服务点", "乡镇"]]) {
    credentials[hall] = centralCli(["hall", "add", hall, "--group", group]).trim();
  }
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  await startCentral();

  // Two halls ship a day; the third never calls in (shown as 失联).
  const east = hallDay(DAY, 40, 7);
  const h = 3600000;
  const n = east.events.length;
  east.events.push({ seq: n + 1, day: DAY, at: Date.now() - 30 * h, actor: "kiosk", counter: null,
    kind: { type: "callback_captured", id: 1, phone_masked: "138****0000", origin: "outage", outage_id: null, ticket: "B007" } });
  // Both report trouble with the business system: one slow, one down.
  await ship("城东营业厅", { ...east, status: { at: Date.now(), day: LATER, waiting: 4, long_waits: [], outage: null, slow_since: Date.now() - 1200000, callbacks_open: 1, config_version: null } });
  const town = hallDay(DAY, 25, 99);
  const down = { started_at: Date.now() - 600000, expected_minutes: 30, long: false };
  await ship("石头咀服务点", { ...town, status: { at: Date.now(), day: LATER, waiting: 9, long_waits: ["pay"], outage: down, callbacks_open: 0, config_version: null } });

  profile = fs.mkdtempSync(path.join(os.tmpdir(), "hallq-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 768 },
    locale: "zh-CN",
    acceptDownloads: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  browser.on("weberror", (e) => errors.push(String(e.error())));
  browser.on("console", (m) => {
    // A refused sign-in (401) or document (400) is a page the test asks for; a blocked resource is not.
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  browser.on("request", (r) => {
    if (!r.url().startsWith(url) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  page = await browser.newPage();
});

after(async () => {
  try {
    if (browser) {
      await browser.close();
      assert.deepEqual(errors, [], "no errors on central's pages (script, policy)");
      assert.deepEqual(foreign, [], "nothing fetched from outside central");
    }
  } finally {
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    if (central && central.exitCode === null) {
      central.kill("SIGTERM");
      await new Promise((r) => central.once("exit", r));
    }
    if (dir) {
      try {
        pg("pg_ctl", ["-D", path.join(dir, "data"), "-m", "immediate", "-w", "stop"]);
      } catch {}
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});

test("head office signs in and sees the halls", { skip }, async () => {
  await page.goto(url + "/");
  assert.match(page.url(), /\/signin$/);
  await page.fill("#login", OPERATOR.login);
  await page.fill("#password", "wrong password");
  await page.click("button[type=submit]");
  await page.locator(".error").waitFor();
  assert.match(await page.locator(".error").textContent(), /账号或密码不正确/);
  await shot("central-signin.png");
  await page.fill("#login", OPERATOR.login);
  await page.fill("#password", OPERATOR.password);
  await page.click("button[type=submit]");
  await page.locator("#halls").waitFor();
  const rows = page.locator("#halls tbody tr");
  assert.equal(await rows.count(), 3);
  const east = rows.filter({ hasText: "城东营业厅" });
  assert.match(await east.textContent(), /在线/);
  assert.match(await east.textContent(), /县城/);
  assert.match(await rows.filter({ hasText: "草盘地服务点" }).textContent(), /失联/);
  assert.match(await rows.filter({ hasText: "石头咀服务点" }).textContent(), /pay/);
  assert.match(await east.textContent(), /系统缓慢/);
  assert.match(await rows.filter({ hasText: "石头咀服务点" }).textContent(), /故障中/);
  assert.match(await page.locator("#shared-trouble").textContent(), /2 个营业厅同时报告业务系统故障或缓慢（城东营业厅、石头咀服务点）/);
  // The tab's name carries the trouble, for a tab left in the background.
  assert.match(await page.title(), /^【业务系统异常 2 · 失联 1】营业厅实况/);
  await shot("central-halls.png");
});

test("the halls page follows the halls without anyone reloading it", { skip }, async () => {
  const drawn = await page.locator("#refreshed").textContent();
  assert.match(drawn, /更新于 \d\d:\d\d:\d\d/);
  // 城东's business system answers as usual again; the page, left alone, reloads itself.
  await ship("城东营业厅", { events: [], tickets: [], ratings: [], status: { at: Date.now(), day: LATER, waiting: 2, long_waits: [], outage: null, slow_since: null, callbacks_open: 1, config_version: null } });
  await page.locator("#shared-trouble").waitFor({ state: "detached", timeout: 70000 });
  assert.notEqual(await page.locator("#refreshed").textContent(), drawn);
  const east = page.locator("#halls tbody tr").filter({ hasText: "城东营业厅" });
  assert.doesNotMatch(await east.textContent(), /系统缓慢/);
  assert.match(await page.locator("#halls tbody tr").filter({ hasText: "石头咀服务点" }).textContent(), /故障中/);
  assert.match(await page.title(), /^【业务系统异常 1 · 失联 1】营业厅实况/);
});

test("the halls page keeps its last table while central cannot be reached, and renews after", { skip }, async () => {
  // Central stops (an update, a lost network): the page on the wall keeps what it showed and says
  // since when it could not renew it, instead of the browser's error page for good.
  central.kill("SIGTERM");
  await new Promise((r) => central.once("exit", r));
  const lost = page.locator("#central-lost");
  await lost.waitFor({ timeout: 70000 });
  assert.match(await lost.textContent(), /本页自 \d\d:\d\d:\d\d（北京时间）起未能更新：连不上总部服务器/);
  assert.match(await page.title(), /^【本页未能更新】【业务系统异常 1 · 失联 1】营业厅实况/);
  assert.equal(await page.locator("#halls tbody tr").count(), 3);
  await shot("central-halls-lost.png");
  // Back: the next renewal puts the table and the title in place, without the note.
  const drawn = await page.locator("#refreshed").textContent();
  await startCentral();
  await lost.waitFor({ state: "detached", timeout: 70000 });
  assert.notEqual(await page.locator("#refreshed").textContent(), drawn);
  assert.match(await page.title(), /^【业务系统异常 1 · 失联 1】营业厅实况/);
  assert.match(page.url(), /\/$/);
});

test("the league table of the day and its CSV", { skip }, async () => {
  await page.click("header a[href='/league']");
  await page.locator("#league").waitFor();
  await page.selectOption("select[name=period]", "day");
  await page.fill("input[name=date]", DAY);
  await page.click(".bar button[type=submit]");
  await page.waitForURL(/period=day/);
  const rows = page.locator("#league tbody tr");
  assert.equal(await rows.count(), 3);
  assert.match(await rows.nth(0).textContent(), /^1/);
  const issued = await page.locator("#league tbody tr", { hasText: "城东营业厅" }).locator("td").nth(3).textContent();
  assert.equal(issued, "40");
  assert.match(await page.locator("#freshness").textContent(), /今日数据约每分钟更新一次，截至 \d\d:\d\d/);
  assert.match(await page.locator("#league thead").textContent(), /故障时长\(分\)最长一次故障\(分\)/);
  // The chart: a bar for each hall that called anyone, and the target line.
  assert.equal(await page.locator("#league-chart rect").count(), 2);
  assert.match(await page.locator("#league-chart").textContent(), /目标 85%/);
  await shot("central-league.png");

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("a[href*='league.csv']")]);
  assert.match(download.suggestedFilename(), new RegExp(`hallq-league-${DAY}-${DAY}\\.csv`));
  const raw = fs.readFileSync(await download.path());
  assert.deepEqual([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], "a byte-order mark, for Excel");
  const csv = raw.subarray(3).toString("utf8");
  const lines = csv.trim().split(/\r\n/);
  assert.equal(lines.length, 4, csv);
  assert.ok(lines[0].startsWith("名次 rank,营业厅 hall"), lines[0]);
  assert.ok(lines.some((l) => /^\d,城东营业厅,1,40,/.test(l)), csv);
});

test("callbacks open across halls, the overdue one flagged", { skip }, async () => {
  await page.click("header a[href='/callbacks']");
  await page.locator("#callbacks").waitFor();
  const row = page.locator("#callbacks tbody tr").first();
  assert.match(await row.textContent(), /城东营业厅/);
  assert.match(await row.textContent(), /超时/);
  assert.match(await row.textContent(), /B007/);
  assert.doesNotMatch(await page.content(), /138/);
  await shot("central-callbacks.png");
});

test("a number central keeps is read one at a time, on the record, and goes when switched off", { skip }, async () => {
  assert.match(centralCli(["hall", "phones", "城东营业厅", "on", "--why", "回访由总部呼叫中心统一拨打"]), /phone numbers on/);
  // The hall hears it in the answer to its next batch, and sends its open callback's number.
  const answer = await ship("城东营业厅", { events: [], callback_phones: { retention_days: 30, numbers: [{ id: 1, phone: "13812345678" }] } });
  assert.equal(answer.callback_phones, true);
  await page.click("header a[href='/callbacks']");
  await page.locator("#callbacks").waitFor();
  assert.match(await page.locator("#phone-halls").textContent(), /城东营业厅/);
  assert.doesNotMatch(await page.content(), /13812345678/, "the list shows no number");
  const row = page.locator("#callbacks tbody tr", { hasText: "城东营业厅" }).first();
  await shot("central-callbacks-phones.png");
  await row.locator("button", { hasText: "显示号码" }).click();
  await page.locator("#phone").waitFor();
  assert.equal(await page.locator("#phone").textContent(), "13812345678");
  assert.match(await page.textContent("main"), /已记入总部操作记录/);
  await shot("central-callback-phone.png");
  const reads = pg("psql", ["-h", "127.0.0.1", "-p", String(pgPort), "-U", "postgres", "-d", "postgres", "-At", "-c",
    "SELECT actor || ' ' || (detail->>'hall') || ' ' || (detail->>'callback') FROM audit WHERE action = 'callback_phone_read'"]).toString().trim();
  assert.equal(reads, `${OPERATOR.login} 城东营业厅 1`);

  // Off: deleted at once; the list has no button and the hall is told.
  assert.match(centralCli(["hall", "phones", "城东营业厅", "off"]), /1 held at central deleted/);
  await page.click("a[href='/callbacks']");
  await page.locator("#callbacks").waitFor();
  assert.equal(await page.locator("#callbacks button", { hasText: "显示号码" }).count(), 0);
  assert.equal((await ship("城东营业厅", { events: [] })).callback_phones, false);
});

test("a refused document is explained; a good one is published to a group", { skip }, async () => {
  await page.click("header a[href='/publish']");
  await page.locator("#toml").waitFor();
  assert.match(await page.locator("#versions").textContent(), /尚未发布/);
  // The text area starts from a complete example that passes.
  assert.match(await page.locator("#toml").inputValue(), /\[hotlines\]/);

  await page.fill("#toml", "notices = [ { zh = \"  \" } ]\n");
  await page.click("form.publish button[type=submit]");
  await page.locator("#publish-error").waitFor();
  assert.match(await page.locator("#publish-error").textContent(), /notices line 1/);
  assert.equal(await page.locator("#toml").inputValue(), "notices = [ { zh = \"  \" } ]\n", "the text is kept");
  await shot("central-publish-refused.png");

  await page.selectOption("#group", "乡镇");
  await page.fill("#toml", [
    'notices = [ { zh = "乡镇服务点周六照常营业", en = "Township points open on Saturdays" } ]',
    "",
    "[hotlines]",
    'complaint = "0713-7000000"',
    'consultation = "96516"',
    "",
  ].join("\n"));
  await page.click("form.publish button[type=submit]");
  await page.locator("#published").waitFor();
  assert.match(await page.locator("#published").textContent(), /v1/);
  // The next version starts from this one, for the same group.
  assert.equal(await page.locator("#group").inputValue(), "乡镇");
  const v1 = page.locator("#versions tbody tr").first();
  assert.match(await v1.textContent(), /v1.*分组 乡镇.*zongbu.*0 \/ 2/s);
  await v1.locator("summary").click();
  assert.match(await v1.locator("pre").textContent(), /乡镇服务点周六照常营业/);
  await shot("central-publish.png");

  // A township hall pulls it; the county hall has nothing.
  const pull = (hall) => fetch(url + "/api/v1/published", { headers: { Authorization: `Bearer ${credentials[hall]}` } });
  assert.equal((await pull("城东营业厅")).status, 204);
  const got = await (await pull("石头咀服务点")).json();
  assert.equal(got.version, 1);
  assert.equal(got.document.hotlines.complaint, "0713-7000000");

  // One township reports running it; the halls page flags the other.
  await ship("石头咀服务点", { events: [], status: { at: Date.now(), day: DAY, waiting: 2, long_waits: [], outage: null, callbacks_open: 0, config_version: 1 } });
  await page.click("header a[href='/']");
  await page.locator("#halls").waitFor();
  const rows = page.locator("#halls tbody tr");
  assert.match(await rows.filter({ hasText: "石头咀服务点" }).textContent(), /v1\s*最新/);
  assert.match(await rows.filter({ hasText: "草盘地服务点" }).textContent(), /未更新 · 最新 v1/);
  assert.doesNotMatch(await rows.filter({ hasText: "城东营业厅" }).textContent(), /未更新/);
  await shot("central-halls-published.png");
});
