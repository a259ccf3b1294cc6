//! Shared by the staff pages: the session, calls to the hub's API, the language switch, the event
//! stream and small helpers for building the page.

import { STRINGS } from "./i18n.js";

const SESSION_KEY = "hallq.staff.session";
const LANG_KEY = "hallq.staff.lang";

// ---------------------------------------------------------------------------------------------
// Language: Chinese unless the clerk switched to English on this PC.

export function lang() {
  return localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
}

export function setLang(l) {
  localStorage.setItem(LANG_KEY, l === "en" ? "en" : "zh");
}

/** The UI string `key` in the current language, with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const entry = STRINGS[key];
  let s = entry ? entry[lang()] ?? entry.zh : key;
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

/** A bilingual text of the hall (`{zh, en}`), English falling back to Chinese as the hub does. */
export function tx(text) {
  if (!text) return "";
  if (typeof text === "string") return text;
  return lang() === "en" && text.en ? text.en : text.zh ?? "";
}

/** Fill every `data-i18n` element (text) and `data-i18n-*` attribute under `root`. */
export function translatePage(root = document) {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

// ---------------------------------------------------------------------------------------------
// Session: kept per browser tab (sessionStorage), so closing the tab signs the PC out.

export function session() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? "null");
    if (!s || !s.token) return null;
    if (s.expires_at && Date.parse(s.expires_at) <= Date.now()) {
      sessionStorage.removeItem(SESSION_KEY);
      return null;
    }
    return s;
  } catch {
    return null;
  }
}

export function saveSession(s) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
}

export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

// ---------------------------------------------------------------------------------------------
// The API.

/** A refusal of the hub, with its message already in the page's language. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Milliseconds to add to the PC's clock to get the hub's (read from the `Date` header). */
let clockOffset = 0;

export function hubNow() {
  return Date.now() + clockOffset;
}

let onSignedOut = () => {};

/** Called when the hub says the token is no longer valid (expired, or signed out elsewhere). */
export function whenSignedOut(f) {
  onSignedOut = f;
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const s = session();
  if (s) headers.Authorization = `Bearer ${s.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "offline", t("err.offline"));
  }
  const date = Date.parse(res.headers.get("Date") ?? "");
  // The header has whole seconds: only correct clocks that are clearly off.
  if (!Number.isNaN(date) && Math.abs(date - Date.now()) > 2000) clockOffset = date - Date.now();
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const e = data && data.error ? data.error : {};
    const msg =
      (lang() === "zh" ? e.message_zh || e.message : e.message || e.message_zh) ||
      t("err.status", { status: res.status });
    const err = new ApiError(res.status, e.code ?? `http_${res.status}`, msg);
    if (res.status === 401 && path !== "/api/v1/login") {
      clearSession();
      onSignedOut(err);
    }
    throw err;
  }
  return { status: res.status, data };
}

/** A list the hub may send bare or wrapped as `{"<name>": [...]}`. */
export function listOf(data, name) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[name])) return data[name];
  if (data && Array.isArray(data.items)) return data.items;
  return [];
}

// ---------------------------------------------------------------------------------------------
// The event stream: the board snapshot, then one update per committed change. The page only needs
// to know *that* something changed; it then refetches what it shows.

export function connectEvents({ onSnapshot, onUpdate, onState }) {
  let ws = null;
  let delay = 500;
  let seq = null;
  let stopped = false;
  let timer = null;

  const open = () => {
    if (stopped) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}/api/v1/events`);
    ws.onopen = () => {
      delay = 500;
      onState?.(true);
    };
    ws.onmessage = (m) => {
      let msg;
      try {
        msg = JSON.parse(m.data);
      } catch {
        return;
      }
      if (msg.type === "snapshot") {
        seq = msg.board?.seq ?? null;
        onSnapshot?.(msg.board);
      } else if (msg.type === "update") {
        if (seq !== null && msg.prev_seq !== seq) {
          // Missed something: the next connection starts with a fresh snapshot.
          ws.close();
          return;
        }
        seq = msg.seq;
        onUpdate?.(msg);
      }
    };
    ws.onclose = () => {
      onState?.(false);
      ws = null;
      if (stopped) return;
      timer = setTimeout(open, delay);
      delay = Math.min(delay * 2, 15000);
    };
    ws.onerror = () => ws?.close();
  };
  open();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      ws?.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Page helpers.

/** `h("div", {class: "x", onclick: f}, "text", child)` */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** `mm:ss`, or `h:mm:ss` past an hour. */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const p = (n) => String(n).padStart(2, "0");
  return hh > 0 ? `${hh}:${p(mm)}:${p(ss)}` : `${p(mm)}:${p(ss)}`;
}

/**
 * How the services since a slow mark read (`slow_pace` of `GET /api/v1/alerts`): null before the
 * first finishes; else the message key's ending ("slow_pace", or "slow_pace_shorter" under ×0.95),
 * its figures, and whether it rests on fewer than ten services: so few cannot tell a doubling
 * from nothing (a quarter hour after a real doubling it reads from ×0.6 to ×3.6: BENCHMARKS.md).
 */
export function slowPace(pace) {
  if (!pace?.services || pace.ratio == null) return null;
  return {
    key: pace.ratio < 0.95 ? "slow_pace_shorter" : "slow_pace",
    n: pace.services,
    r: pace.ratio.toFixed(1),
    few: pace.services < 10,
    // The newest services run about as quickly as before the mark: ending it is proposed.
    usualAgain: !!pace.usual_again,
    usualKey: pace.recent < 0.95 ? "slow_pace_usual_shorter" : "slow_pace_usual",
    recent: pace.recent?.toFixed(1),
  };
}

/** Minutes, rounded down, for waiting times. */
export function minutes(ms) {
  return Math.max(0, Math.floor(ms / 60000));
}

/** The hall's time zone (from the board's notices): times are shown as the hall's clock shows them. */
let hallZone;

export function setHallZone(zone) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    hallZone = zone;
  } catch {
    hallZone = undefined;
  }
}

function parts(d) {
  const f = new Intl.DateTimeFormat("en-GB", {
    timeZone: hallZone, year: "numeric", month: "numeric", day: "numeric",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  return Object.fromEntries(f.formatToParts(d).map((x) => [x.type, x.value]));
}

/** A wall-clock time in the hall's way: `14:05`, with the date when it is not today. */
export function clockTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = parts(d);
  const today = parts(new Date(hubNow()));
  const hm = `${p.hour}:${p.minute}`;
  if (p.year === today.year && p.month === today.month && p.day === today.day) return hm;
  return `${p.month}-${p.day.padStart(2, "0")} ${hm}`;
}

/** The live-connection mark in the header, in the page's language. */
export function showLive(up) {
  const el = document.getElementById("live");
  if (!el) return;
  if (up !== undefined) el.dataset.up = up ? "1" : "0";
  const isUp = el.dataset.up === "1";
  if (el.dataset.up === undefined) return;
  el.className = isUp ? "live live-up" : "live live-down";
  el.textContent = isUp ? t("live.up") : t("live.down");
}

/** Shows a message in the page's message bar; errors stay until replaced or dismissed. */
export function flash(text, kind = "info") {
  // Each screen has its own message line; use the one that is on screen.
  const bar = [...document.querySelectorAll(".flash")].find((el) => !el.closest("main[hidden]"));
  if (!bar) return;
  bar.replaceChildren(
    h("span", { class: "flash-text" }, text),
    h("button", { class: "flash-close", type: "button", "aria-label": "×", onclick: () => bar.hidden = true }, "×"),
  );
  for (const k of ["info", "ok", "error"]) bar.classList.toggle(`flash-${k}`, k === kind);
  bar.hidden = false;
  clearTimeout(flash.timer);
  if (kind !== "error" && bar.classList.contains("flash-float")) flash.timer = setTimeout(() => (bar.hidden = true), 6000);
}

/** The language switch in the header: reloads the page's texts in place. */
export function wireLangSwitch(rerender) {
  const btn = document.getElementById("lang-switch");
  if (!btn) return;
  const label = () => (btn.textContent = lang() === "zh" ? "English" : "中文");
  label();
  btn.addEventListener("click", () => {
    setLang(lang() === "zh" ? "en" : "zh");
    label();
    translatePage();
    showLive();
    rerender();
  });
}

/** Signs in; returns the session kept for this tab. */
export async function signIn(login, password, counter) {
  const body = { login, password };
  if (counter !== undefined && counter !== null) body.counter = counter;
  const { data } = await api("POST", "/api/v1/login", body);
  const s = { ...data, login };
  saveSession(s);
  return s;
}

export async function signOut() {
  try {
    await api("POST", "/api/v1/logout");
  } catch {
    // The token is dropped on this side either way.
  }
  clearSession();
}
