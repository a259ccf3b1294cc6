//! The counter tablet (`/rate/{counter}`): idle until the clerk finishes a visit at this counter,
//! then asks for one rating on the five-level scale, thanks the customer and returns to idle. It
//! learns of a finished visit by asking the hub every second and a half; it sends only the counter
//! and the score, nothing about the customer.

const counter = Number(location.pathname.split("/").filter(Boolean).pop());
const LANG_KEY = "hallq.rate.lang";
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
};

const $ = (id) => document.getElementById(id);
let lang = localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
let hall = null;
let screen = "idle";
let current = null; // finished_at of the visit being asked about
const done = new Set(); // visits answered or timed out
let timer = null;
let deadline = 0;

const s = (k) => S[k][lang];

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
  for (const id of ["idle", "ask", "thanks"]) $(id).hidden = id !== screen;
}

function show(next) {
  screen = next;
  clearTimeout(timer);
  for (const id of ["idle", "ask", "thanks"]) $(id).hidden = id !== screen;
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
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ counter, score }),
    });
    $("thanks-title").textContent = res.status === 409 ? s("already") : s("thanks");
  } catch {
    $("thanks-title").textContent = s("thanks");
  }
  $("thanks-sub").textContent = s("thanks_sub");
  show("thanks");
  timer = setTimeout(() => show("idle"), THANKS_S * 1000);
}

async function poll() {
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
render();
loadHall();
setInterval(loadHall, 5 * 60_000);
if (Number.isInteger(counter) && counter > 0) poll();
