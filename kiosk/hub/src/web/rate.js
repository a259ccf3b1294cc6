//! The counter tablet (`/rate/{counter}`): idle until the clerk finishes a visit at this counter,
//! then asks for one rating on the five-level scale, thanks the customer and returns to idle. It
//! learns of a finished visit by asking the hub every second and a half; it sends only the counter,
//! the visit it asked about and the score, nothing about the customer.
//!
//! Only this counter's tablet may rate (so the clerk being rated cannot rate first from the PC):
//! it is paired once with a tablet token the manager creates for the counter, by opening the
//! pairing link (`/rate/3#pair=TOKEN`) or typing the token here. The token stays in this browser's
//! local storage; the link's token is taken off the address bar at once.

const counter = Number(location.pathname.split("/").filter(Boolean).pop());
const LANG_KEY = "hallq.rate.lang";
const TOKEN_KEY = "hallq.rate.token";
/** Seconds the question stays up when nobody answers. */
const ASK_TIMEOUT_S = 30;
/** Seconds the thank-you stays up. */
const THANKS_S = 5;
const POLL_MS = 1500;

const LEVELS = [
  { score: 5, zh: "非常满意", en: "Very satisfied" },
  { score: 4, zh: "满意", en: "Satisfied" },
  { score: 3, zh: "基本满意", en: "Fairly satisfied" },
  { score: 2, zh: "不满意", en: "Dissatisfied" },
  { score: 1, zh: "非常不满意", en: "Very dissatisfied" },
];

const S = {
  welcome: { zh: "您好,欢迎光临", en: "Hello, welcome" },
  welcome_sub: { zh: "办理完成后,请为本次服务评价", en: "After your visit, please rate our service" },
  ask: { zh: "请为本次服务评价", en: "Please rate this service" },
  ask_sub: { zh: "匿名评价,点击一项即可", en: "Anonymous: just tap one" },
  thanks: { zh: "感谢您的评价!", en: "Thank you for your rating!" },
  thanks_sub: { zh: "祝您生活愉快,欢迎再次光临", en: "Have a nice day, and welcome back" },
  already: { zh: "本次服务已评价,谢谢!", en: "This visit has been rated, thank you!" },
  bad_counter: { zh: "窗口编号不正确", en: "Unknown counter" },
  pair_title: { zh: "评价器配对", en: "Pair this rating tablet" },
  pair_sub: {
    zh: "请大厅经理在管理页面“账号与设备”中为本窗口添加评价器,然后打开配对链接,或在下面输入令牌。",
    en: "The hall manager adds a rating tablet for this counter on the management page (accounts and devices), then opens its pairing link here or types its token below.",
  },
  pair_placeholder: { zh: "评价器令牌(64位)", en: "Tablet token (64 characters)" },
  pair_btn: { zh: "配对", en: "Pair" },
  pair_bad: { zh: "令牌无效或已被撤销,请向大厅经理索取新的令牌", en: "This token is unknown or revoked: ask the hall manager for a new one" },
  pair_not_tablet: { zh: "这不是评价器令牌", en: "This is not a rating tablet's token" },
  pair_other: { zh: "这个令牌属于{n}号窗口的评价器", en: "This token belongs to the tablet of counter {n}" },
  pair_offline: { zh: "无法连接服务器,请稍后再试", en: "Cannot reach the hub: try again shortly" },
};

const $ = (id) => document.getElementById(id);
let lang = localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
let hall = null;
let screen = "pair";
let paired = false;
let polling = false;
let current = null; // finished_at of the visit being asked about
const done = new Set(); // visits answered or timed out
let timer = null;
let deadline = 0;

const s = (k) => S[k][lang];
const SCREENS = ["pair", "idle", "ask", "thanks"];
const token = () => localStorage.getItem(TOKEN_KEY) ?? "";

/** A face drawn for the level (no emoji font needed on the tablet): the mouth bends with the score. */
function face(score) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 100 100");
  svg.setAttribute("class", "rt-face");
  const bend = { 5: 26, 4: 13, 3: 0, 2: -13, 1: -24 }[score];
  const mouthY = score >= 3 ? 62 : 72;
  for (const [tag, attrs] of [
    ["circle", { cx: 50, cy: 50, r: 44, fill: "none", stroke: "currentColor", "stroke-width": 7 }],
    ["circle", { cx: 34, cy: 40, r: 6, fill: "currentColor" }],
    ["circle", { cx: 66, cy: 40, r: 6, fill: "currentColor" }],
    ["path", { d: `M 28 ${mouthY} Q 50 ${mouthY + bend} 72 ${mouthY}`, fill: "none", stroke: "currentColor", "stroke-width": 7, "stroke-linecap": "round" }],
  ]) {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    svg.append(e);
  }
  return svg;
}

function render() {
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  $("lang").textContent = lang === "en" ? "中文" : "English";
  if (hall) {
    $("hall-name").textContent = lang === "en" && hall.notices.hall_name.en ? hall.notices.hall_name.en : hall.notices.hall_name.zh;
    const c = hall.counters?.find((x) => x.id === counter);
    const name = c?.name;
    $("counter-name").textContent = name ? (lang === "en" && name.en ? name.en : name.zh) : "";
  }
  $("welcome").textContent = Number.isInteger(counter) && counter > 0 ? s("welcome") : s("bad_counter");
  $("welcome-sub").textContent = s("welcome_sub");
  $("pair-title").textContent = s("pair_title");
  $("pair-sub").textContent = s("pair_sub");
  $("pair-token").placeholder = s("pair_placeholder");
  $("pair-btn").textContent = s("pair_btn");
  $("ask-title").textContent = s("ask");
  $("ask-sub").textContent = s("ask_sub");
  $("buttons").replaceChildren(...LEVELS.map((l) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `rt-btn rt-${l.score}`;
    b.dataset.score = l.score;
    b.replaceChildren(face(l.score));
    for (const [cls, t] of [["rt-label", lang === "en" ? l.en : l.zh], ["rt-en", lang === "en" ? l.zh : l.en]]) {
      const span = document.createElement("span");
      span.className = cls;
      span.textContent = t;
      b.append(span);
    }
    b.addEventListener("click", () => rate(l.score));
    return b;
  }));
  for (const id of SCREENS) $(id).hidden = id !== screen;
}

function show(next) {
  screen = next;
  clearTimeout(timer);
  for (const id of SCREENS) $(id).hidden = id !== screen;
  if (next === "ask") {
    deadline = Date.now() + ASK_TIMEOUT_S * 1000;
    tick();
  }
}

function tick() {
  const left = Math.max(0, deadline - Date.now());
  $("timer-bar").style.width = `${(left / (ASK_TIMEOUT_S * 1000)) * 100}%`;
  if (left <= 0) {
    done.add(current);
    show("idle");
    return;
  }
  timer = setTimeout(tick, 500);
}

async function rate(score) {
  if (screen !== "ask") return;
  done.add(current);
  try {
    const res = await fetch("/api/v1/ratings", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token()}` },
      body: JSON.stringify({ counter, score, finished_at: current }),
    });
    if (res.status === 401 || res.status === 403) {
      // Revoked or re-issued: the customer is thanked, the manager sees the pairing screen.
      unpair(res.status === 401 ? s("pair_bad") : s("pair_not_tablet"));
      return;
    }
    $("thanks-title").textContent = res.status === 409 ? s("already") : s("thanks");
  } catch {
    $("thanks-title").textContent = s("thanks");
  }
  $("thanks-sub").textContent = s("thanks_sub");
  show("thanks");
  timer = setTimeout(() => show("idle"), THANKS_S * 1000);
}

async function poll() {
  if (!paired) {
    polling = false;
    return;
  }
  try {
    const res = await fetch(`/api/v1/counters/${counter}/rating-prompt`, { cache: "no-store" });
    if (res.ok) {
      const p = await res.json();
      if (p.prompt && p.finished_at && !done.has(p.finished_at) && screen !== "thanks") {
        if (screen !== "ask" || current !== p.finished_at) {
          current = p.finished_at;
          show("ask");
        }
      } else if (!p.prompt && screen === "ask") {
        show("idle");
      }
    }
  } catch {
    // The hub is restarting or the network blinked: ask again at the next poll.
  }
  setTimeout(poll, POLL_MS);
}

async function loadHall() {
  try {
    const res = await fetch("/api/v1/board", { cache: "no-store" });
    if (res.ok) hall = await res.json();
  } catch {
    // The names are a courtesy; the tablet works without them.
  }
  render();
}

$("lang").addEventListener("click", () => {
  lang = lang === "en" ? "zh" : "en";
  localStorage.setItem(LANG_KEY, lang);
  render();
});
/** Whether `tok` is a rating tablet's token for this counter: null if so, else why not. */
async function checkToken(tok) {
  let res;
  try {
    res = await fetch("/api/v1/me", { headers: { Authorization: `Bearer ${tok}` }, cache: "no-store" });
  } catch {
    return s("pair_offline");
  }
  if (res.status === 401) return s("pair_bad");
  if (!res.ok) return s("pair_offline");
  const me = await res.json();
  if (me.role !== "tablet") return s("pair_not_tablet");
  if (me.counter !== counter) return s("pair_other").replace("{n}", me.counter);
  return null;
}

function unpair(why) {
  paired = false;
  localStorage.removeItem(TOKEN_KEY);
  $("pair-error").textContent = why ?? "";
  show("pair");
}

function startPolling() {
  paired = true;
  $("pair-error").textContent = "";
  if (screen === "pair") show("idle");
  if (!polling) {
    polling = true;
    poll();
  }
}

async function pair(tok) {
  tok = tok.trim();
  if (!tok) return;
  const why = await checkToken(tok);
  if (why) {
    // A hub that cannot be reached keeps the saved token: it is tried again shortly.
    if (why === s("pair_offline") && tok === token()) {
      $("pair-error").textContent = why;
      setTimeout(() => pair(token()), 5000);
      return;
    }
    unpair(why);
    return;
  }
  localStorage.setItem(TOKEN_KEY, tok);
  $("pair-token").value = "";
  startPolling();
}

$("pair-form").addEventListener("submit", (e) => {
  e.preventDefault();
  pair($("pair-token").value);
});

render();
loadHall();
setInterval(loadHall, 5 * 60_000);
/** A pairing link (`#pair=TOKEN`): pair with its token. */
function pairFromLink() {
  const link = new URLSearchParams(location.hash.replace(/^#/, "")).get("pair");
  if (!link) return false;
  // The token must not stay in the address bar, the history or a bookmark.
  history.replaceState(null, "", location.pathname + location.search);
  pair(link);
  return true;
}

if (Number.isInteger(counter) && counter > 0) {
  // The link may also be opened on a tablet already showing this page.
  window.addEventListener("hashchange", pairFromLink);
  if (!pairFromLink()) {
    if (token()) pair(token());
    else show("pair");
  }
}
