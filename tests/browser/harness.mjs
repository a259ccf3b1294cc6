//! What the browser tests share: the hub's address and accounts (given by run.sh), a headless
//! Chromium with a fresh profile, and plain API calls for setting the hall up.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

export const hub = {
  url: must("HALLQ_URL"),
  clerk: { login: must("HALLQ_CLERK"), password: must("HALLQ_CLERK_PASSWORD"), counter: Number(process.env.HALLQ_CLERK_COUNTER ?? 1) },
  kioskToken: must("HALLQ_KIOSK_TOKEN"),
  manager: { login: must("HALLQ_MANAGER"), password: must("HALLQ_MANAGER_PASSWORD") },
  shots: process.env.HALLQ_SHOTS ?? null,
};

function must(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through tests/browser/run.sh`);
  return v;
}

/**
 * A fresh headless Chromium at the hall PC's screen size, or with `{ phone: true }` a phone's:
 * 390×844, touch, a mobile browser's user agent (as WeChat's built-in browser reports one).
 */
export async function launch({ phone = false } = {}) {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "hallq-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: phone ? { width: 390, height: 844 } : { width: 1366, height: 768 },
    ...(phone
      ? {
          isMobile: true,
          hasTouch: true,
          deviceScaleFactor: 2,
          userAgent: "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0 Mobile Safari/537.36 MicroMessenger/8.0.50",
        }
      : {}),
    locale: "zh-CN",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  // Nothing may be fetched from outside the hub.
  const foreign = [];
  context.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(hub.url) && !u.startsWith("data:") && !u.startsWith(hub.url.replace("http", "ws"))) foreign.push(u);
  });
  const errors = [];
  context.on("weberror", (e) => errors.push(String(e.error())));
  // A script, style or connection the hub's Content-Security-Policy blocks is an error too.
  context.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  return {
    context,
    foreign,
    errors,
    async close() {
      // A route handler still fetching when the pages close would throw after the test ended.
      for (const p of context.pages()) await p.unrouteAll({ behavior: "ignoreErrors" }).catch(() => {});
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A request to the hub outside the browser. Returns `{status, body}`; never throws on 4xx. */
export async function call(method, p, { token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(hub.url + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: "manual" });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

export async function issueTicket(service, priority = false) {
  const r = await call("POST", "/api/v1/tickets", { token: hub.kioskToken, body: { service, priority } });
  if (r.status !== 201 && r.status !== 200) throw new Error(`issuing a ${service} ticket: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function managerToken() {
  const r = await call("POST", "/api/v1/login", { body: { login: hub.manager.login, password: hub.manager.password } });
  if (r.status !== 200) throw new Error(`manager login: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token;
}

/** A new tab of `context` with the manager page, signed in as the hall's manager. */
export async function managerPage(context) {
  const page = await context.newPage();
  await page.goto(hub.url + "/staff/manager.html");
  await page.locator("#signin-form").waitFor();
  await page.fill("#login", hub.manager.login);
  await page.fill("#password", hub.manager.password);
  await page.click("#signin-btn");
  await page.locator("#manager").waitFor();
  return page;
}

/** Waits until `f()` returns something truthy; a bounded loop, so a broken hub fails the test. */
export async function until(f, what, ms = 5000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await f();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

export async function screenshot(page, name) {
  if (!hub.shots) return;
  fs.mkdirSync(hub.shots, { recursive: true });
  await page.screenshot({ path: path.join(hub.shots, name) });
}
