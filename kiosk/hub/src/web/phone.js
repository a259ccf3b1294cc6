//! The customer's phone: taking a ticket from a scanned code (`/p/{code}`) and following it live
//! (`/t/{number}`, also what the printed ticket's QR opens). No login, nothing personal: the
//! phone keeps a random id and its ticket number in its own storage.

const STORE_PHONE = "hallq.phone";
const STORE_TICKET = "hallq.ticket";
const STORE_LANG = "hallq.lang";

let lang = localStorage.getItem(STORE_LANG) === "en" ? "en" : "zh";
const tx = (t) => (t ? (lang === "en" && t.en ? t.en : t.zh) : "");
const say = (zh, en) => (lang === "en" ? en : zh);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function phoneId() {
  let id = localStorage.getItem(STORE_PHONE);
  if (!id || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    id = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    localStorage.setItem(STORE_PHONE, id);
  }
  return id;
}

async function api(method, path, body) {
  const r = await fetch(path, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    cache: "no-store",
  });
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    const e = new Error(data?.error ? (lang === "en" ? data.error.message : data.error.message_zh ?? data.error.message) : `HTTP ${r.status}`);
    e.status = r.status;
    e.code = data?.error?.code;
    e.data = data;
    throw e;
  }
  return data;
}

/** The wait as the kiosk and the ticket say it (`estimate::WaitRange`: whole minutes, rounded down). */
function waitWords(lo, hi, secs) {
  if (!lo && hi == null) {
    const m = Math.ceil((secs ?? 0) / 60);
    return say(`约${m}分钟`, `about ${m} min`);
  }
  const a = Math.floor(lo / 60);
  if (hi == null) return say(`${a}分钟以上`, `over ${a} min`);
  const b = Math.floor(hi / 60);
  if (b === 0) return say("无需等候", "no wait");
  return a === b ? say(`约${a}分钟`, `about ${a} min`) : say(`约${a}–${b}分钟`, `about ${a}–${b} min`);
}

function header(title) {
  document.title = title;
  const h = document.querySelector("header h1");
  if (h) h.textContent = title;
  const b = document.getElementById("lang");
  if (b) {
    b.textContent = lang === "en" ? "中文" : "English";
    b.onclick = () => {
      lang = lang === "en" ? "zh" : "en";
      localStorage.setItem(STORE_LANG, lang);
      rerender();
    };
  }
}

let rerender = () => {};

// ---------------------------------------------------------------------------------------------
// /p/{code}: pick a service, take a ticket.

async function takePage(code) {
  const main = document.getElementById("main");
  let board;
  let chosen = null;
  let error = null;
  const held = localStorage.getItem(STORE_TICKET);
  try {
    board = await api("GET", `/api/v1/phone/${encodeURIComponent(code)}`);
  } catch (e) {
    error = e;
  }
  const render = () => {
    header(board ? tx(board.notices.hall_name) : say("扫码取号", "Take a number"));
    const parts = [];
    if (held) {
      parts.push(el("a", { class: "secondary", id: "my-ticket", href: `/t/${encodeURIComponent(held)}` }, say(`查看我的号码 ${held}`, `My ticket ${held}`)));
    }
    if (error) {
      parts.push(el("p", { class: "error", id: "error" }, error.message));
      main.replaceChildren(...parts);
      return;
    }
    const live = board; // the live part is flattened into the snapshot
    if (live.outage) {
      parts.push(el("p", { class: "notice", id: "outage" }, tx(live.outage.message) ||
        say("业务系统暂时故障,给您带来不便,深表歉意。部分业务可能无法办理。", "The business system is down; we apologise. Some services may not be possible now.")));
    }
    if (live.callback_capture) parts.push(callbackForm());
    if (live.day.phase !== "open") {
      parts.push(el("p", { class: "notice", id: "closed" },
        say(`现在不能取号。取号时间 ${live.day.opening}–${live.day.last_ticket}。`, `No tickets now. Tickets ${live.day.opening}–${live.day.last_ticket}.`)));
    }
    const services = board.notices.services.filter((s) => s.enabled);
    if (!chosen) {
      parts.push(el("p", { class: "muted" }, say("请选择要办理的业务:", "Choose a service:")));
      for (const s of services) {
        parts.push(el("button", { class: "service", type: "button", "data-service": s.id, onclick: () => { chosen = s; render(); } },
          el("b", {}, `${s.prefix} ${tx(s.name)}`),
          el("span", { class: "load" }, say(`等候 ${s.waiting} 人,预计 `, `${s.waiting} waiting, `) +
            waitWords(s.estimated_wait_lo_s, s.estimated_wait_hi_s, s.estimated_wait_s))));
      }
    } else {
      const s = chosen;
      const d = el("div", { class: "detail" }, el("h2", {}, tx(s.name)));
      if (s.documents.length) {
        d.append(el("p", {}, say("请带齐:", "Please bring:")), el("ul", {}, s.documents.map((x) => el("li", {}, tx(x)))));
      }
      if (s.fees.length) {
        d.append(el("p", {}, say("费用:", "Fees:")),
          el("table", { class: "fees" }, s.fees.map((f) => el("tr", {}, el("td", {}, tx(f.item)), el("td", {}, tx(f.amount))))));
      }
      if (s.reminder) d.append(el("p", { class: "notice" }, tx(s.reminder)));
      d.append(el("p", { class: "muted" }, say(`现在等候 ${s.waiting} 人,预计 `, `${s.waiting} waiting now, `) +
        waitWords(s.estimated_wait_lo_s, s.estimated_wait_hi_s, s.estimated_wait_s)));
      parts.push(d);
      parts.push(el("button", { class: "primary", id: "take", type: "button", onclick: take }, say("取号", "Take a number")));
      parts.push(el("button", { class: "secondary", type: "button", onclick: () => { chosen = null; render(); } }, say("返回", "Back")));
    }
    main.replaceChildren(...parts);
  };
  // During an outage or a long wait: a number to call back, with the kiosk's consent wording.
  let callback = { done: null, error: null, consent: false, phone: "" };
  const callbackForm = () => {
    if (callback.done) {
      return el("p", { class: "notice", id: "callback-done" },
        say(`已登记 ${callback.done},业务恢复后我们会给您回电。`, `Saved: ${callback.done}. We will call you back when service resumes.`));
    }
    const days = board.notices.callback_retention_days;
    const input = el("input", { id: "callback-phone", type: "tel", inputmode: "tel", autocomplete: "tel", maxlength: 20,
      placeholder: say("手机号码", "Mobile number"), class: "phone-input",
      oninput: (e) => { callback.phone = e.target.value; } });
    // The page is drawn anew after every answer: keep what was typed.
    input.value = callback.phone ?? "";
    const consent = el("input", { id: "callback-consent", type: "checkbox", checked: callback.consent,
      onchange: (e) => {
        callback.consent = e.target.checked;
        document.getElementById("callback-error")?.remove();
      } });
    const send = async () => {
      try {
        const r = await api("POST", `/api/v1/phone/${encodeURIComponent(code)}/callbacks`, {
          phone: callback.phone, consent: callback.consent, ticket: localStorage.getItem(STORE_TICKET) ?? undefined,
        });
        callback = { ...callback, done: r.phone_masked, error: null };
      } catch (e) {
        callback.error = e.message;
      }
      render();
    };
    return el("div", { class: "callback", id: "callback" },
      el("p", {}, say("不想久等?留下手机号码,业务恢复后我们给您回电。", "Rather not wait? Leave your number and we will call you back.")),
      input,
      el("label", { class: "consent" }, consent,
        say(` 我同意营业厅用这个号码给我回电(号码只用于回电,办结后 ${days} 天内删除)`, ` I agree to be called back on this number (used for that only, deleted within ${days} days of the call)`)),
      callback.error ? el("p", { class: "error", id: "callback-error" }, callback.error) : null,
      el("button", { class: "secondary", id: "callback-send", type: "button", onclick: send }, say("登记回电", "Call me back")));
  };
  const take = async () => {
    const button = document.getElementById("take");
    if (button) button.disabled = true;
    try {
      const t = await api("POST", `/api/v1/phone/${encodeURIComponent(code)}/tickets`, { service: chosen.id, phone: phoneId() });
      localStorage.setItem(STORE_TICKET, t.number);
      location.assign(`/t/${encodeURIComponent(t.number)}`);
    } catch (e) {
      if (e.code === "phone_has_ticket") {
        const n = /([A-Z]\d{3,})/.exec(e.data?.error?.message ?? "")?.[1];
        if (n) localStorage.setItem(STORE_TICKET, n);
      }
      error = e;
      render();
    }
  };
  rerender = render;
  render();
}

// ---------------------------------------------------------------------------------------------
// /t/{number}: the ticket, live.

let audio = null;
function beep() {
  try {
    audio ??= new AudioContext();
    const o = audio.createOscillator();
    const g = audio.createGain();
    o.frequency.value = 880;
    g.gain.value = 0.2;
    o.connect(g).connect(audio.destination);
    o.start();
    o.stop(audio.currentTime + 0.6);
  } catch {
    // No sound where the browser allows none; the screen says so.
  }
}

async function ticketPage(number) {
  // The server's page is the fallback; this one takes over, with its own style.
  for (const style of document.querySelectorAll("head style")) style.remove();
  if (!document.querySelector('link[href="/staff/phone.css"]')) {
    document.head.append(el("link", { rel: "stylesheet", href: "/staff/phone.css" }));
  }
  document.body.replaceChildren(
    el("header", {}, el("h1", {}, number), el("button", { id: "lang", type: "button" }, "English")),
    el("main", { id: "main" }),
  );
  const main = document.getElementById("main");
  let status = null;
  let error = null;
  let connected = false;
  let alerted = { called: false, near: false };
  let soundOn = false;

  const render = () => {
    header(say(`${number} 号`, `Ticket ${number}`));
    if (error && !status) {
      main.replaceChildren(el("p", { class: "error", id: "error" }, error.status === 404
        ? say("今日没有这个号码,请核对号码或咨询大厅工作人员。", "No such ticket today: please check the number or ask the staff.")
        : error.message));
      return;
    }
    if (!status) return;
    const s = status;
    const card = el("div", { class: "ticket" },
      el("div", { class: "muted" }, tx(s.service_name)),
      el("div", { class: "number", id: "number" }, s.number));
    const state = {
      waiting: [say("等候中", "Waiting")],
      called: [say("请到窗口办理", "Called: please go to the counter")],
      serving: [say("办理中", "Being served")],
      finished: [say("已办结,感谢您的耐心", "Finished: thank you for your patience")],
      no_show: [say("已过号", "Missed")],
      expired: [say("已失效", "Expired")],
    }[s.state] ?? [s.state];
    card.append(el("div", { class: "state", id: "state" }, state[0]));
    if (s.state === "waiting") {
      card.append(el("table", {},
        el("tr", {}, el("th", {}, say("前面还有", "Ahead of you")), el("td", { id: "ahead" }, el("b", {}, s.ahead), say(" 人", ""))),
        el("tr", {}, el("th", {}, say("预计等候", "Expected wait")), el("td", { id: "wait" }, el("b", {}, waitWords(s.estimated_wait_lo_s, s.estimated_wait_hi_s, s.estimated_wait_s))))));
      if (s.ahead <= 2) {
        card.append(el("p", { class: "notice", id: "near" }, s.ahead === 0
          ? say("您是下一位,请到叫号屏附近等候。", "You are next: please wait near the board.")
          : say(`前面只有 ${s.ahead} 人了,请回到大厅留意叫号。`, `Only ${s.ahead} ahead: please come back to the hall and listen for your number.`)));
      }
    }
    if (s.state === "no_show") {
      card.append(el("p", { class: "notice", id: "missed" },
        say("您的号码已过号。请到服务台出示本页面,工作人员会为您安排;或重新取号。", "Your number was called and missed. Show this page at the service desk, or take a new number.")));
    }
    if ((s.state === "called" || s.state === "serving") && s.counter_name) {
      card.append(el("p", { class: "state" }, say(`请到 ${tx(s.counter_name)}`, `Please go to ${tx(s.counter_name)}`)));
    }
    const parts = [card];
    if (!soundOn && (s.state === "waiting")) {
      parts.push(el("button", { class: "secondary", id: "sound", type: "button", onclick: () => { soundOn = true; beep(); render(); } },
        say("开启叫号提醒声音", "Turn on the call sound")));
    }
    parts.push(el("p", { class: `live ${connected ? "" : "off"}`, id: "live" }, connected
      ? say("实时更新中。叫到您时本页会提醒;请保持页面打开。", "Live. This page alerts you when you are called; keep it open.")
      : say("连接中断,正在重连…请留意大厅叫号。", "Connection lost, reconnecting… please listen in the hall.")));
    if (s.state === "called" && !alerted.dismissed) {
      const vibrates = "vibrate" in navigator;
      parts.push(el("div", { class: "called", id: "called", role: "alert" },
        el("div", { class: "number" }, s.number),
        el("div", { class: "go" }, say(`请到 ${tx(s.counter_name)}`, `Go to ${tx(s.counter_name)}`)),
        el("div", { class: "en" }, lang === "en" ? "" : `Please go to ${s.counter_name?.en || s.counter_name?.zh || ""}`),
        vibrates || soundOn ? null : el("div", { class: "en" }, say("本浏览器不能振动或响铃,请留意屏幕。", "This browser cannot vibrate or ring: watch the screen.")),
        el("button", { type: "button", onclick: () => { alerted.dismissed = true; render(); } }, say("知道了", "OK"))));
    }
    main.replaceChildren(...parts);
  };
  rerender = render;

  const refresh = async () => {
    try {
      const previous = status?.state;
      status = await api("GET", `/api/v1/tickets/${encodeURIComponent(number)}`);
      error = null;
      if (status.state === "called" && previous !== "called") {
        alerted = { called: true, near: alerted.near };
        navigator.vibrate?.([400, 200, 400, 200, 400]);
        if (soundOn) beep();
      }
      if (status.state === "waiting" && status.ahead <= 2 && !alerted.near) {
        alerted.near = true;
        navigator.vibrate?.(200);
      }
      if (["finished", "expired"].includes(status.state) && localStorage.getItem(STORE_TICKET) === number) {
        localStorage.removeItem(STORE_TICKET);
      }
    } catch (e) {
      error = e;
    }
    render();
  };

  let timer = null;
  const soon = () => {
    if (timer) return;
    timer = setTimeout(() => { timer = null; refresh(); }, 200);
  };
  let backoff = 1000;
  const connect = () => {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/events`);
    ws.onopen = () => { connected = true; backoff = 1000; refresh(); };
    ws.onmessage = soon;
    ws.onclose = () => {
      connected = false;
      render();
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  };
  await refresh();
  connect();
}

const path = location.pathname;
const p = /^\/p\/([^/]+)$/.exec(path);
const t = /^\/t\/([^/]+)$/.exec(path);
if (p) takePage(decodeURIComponent(p[1]));
else if (t) ticketPage(decodeURIComponent(t[1]));
