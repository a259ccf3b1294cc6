//! The counter console: the clerk's buttons and keypad, the current ticket with what to tell the
//! customer, the counter's waiting queue and the hall's alerts, kept live over the event stream.

import {
  api, ApiError, clockTime, connectEvents, duration, flash, h, hubNow, listOf, minutes,
  session, setHallZone, showLive, signIn, signOut, slowPace, t, translatePage, tx, whenSignedOut,
  wireLangSwitch,
} from "./common.js";

/** Used when the hub does not say how long a service may take before the next customer is owed an apology. */
const DEFAULT_LONG_SERVICE_MIN = 15;
/** A second press of "call" this soon after a call is taken as a bounce of the key, not a wish. */
const CALL_GUARD_MS = 1500;
/** How often the alerts are fetched besides on every hall event. */
const ALERTS_EVERY_MS = 20000;

const $ = (id) => document.getElementById(id);

const state = {
  session: null,
  /** From `GET /api/v1/counters/{id}/queue`. */
  counter: null,
  current: null,
  currentService: null,
  queue: [],
  longServiceMin: DEFAULT_LONG_SERVICE_MIN,
  /** ServiceView by id, from `GET /api/v1/services`. */
  services: new Map(),
  /** CounterView list, from the board (live) or `GET /api/v1/counters`. */
  counters: [],
  board: null,
  /** `GET /api/v1/alerts`. */
  alerts: null,
  busy: false,
  lastCallAt: 0,
  lastCalled: null,
  /** Digits typed on the keypad, waiting for Enter. */
  keyed: "",
  events: null,
};

// ---------------------------------------------------------------------------------------------
// Start

document.addEventListener("DOMContentLoaded", () => {
  translatePage();
  wireLangSwitch(render);
  whenSignedOut(() => showSignIn(t("err.session_ended")));
  $("signin-form").addEventListener("submit", onSignIn);
  $("sign-out").addEventListener("click", async () => {
    await signOut();
    showSignIn();
  });
  wireActions();
  document.addEventListener("keydown", onKey);
  setInterval(tick, 1000);
  // What is not a hall event (a kiosk's printer, the probe, the clock, the disk) reaches the
  // alerts only by asking: a quiet hall has no event to ask on.
  setInterval(() => {
    if (state.session) refresh();
  }, ALERTS_EVERY_MS);
  const s = session();
  if (s && s.counter !== null && s.counter !== undefined) startConsole(s);
  else showSignIn();
});

async function showSignIn(message) {
  state.events?.stop();
  state.events = null;
  state.session = null;
  $("console").hidden = true;
  $("legend").hidden = true;
  $("sign-out").hidden = true;
  $("callbacks-link").hidden = true;
  $("who").textContent = "";
  $("counter-name").textContent = "";
  $("counter-state").textContent = "";
  $("signin").hidden = false;
  if (message) flash(message, "error");
  const last = JSON.parse(localStorage.getItem("hallq.staff.last") ?? "{}");
  if (last.login) $("login").value = last.login;
  api("GET", "/api/v1/board").then(({ data }) => {
    if (data?.notices?.time_zone) setHallZone(data.notices.time_zone);
    $("hall-name").textContent = tx(data?.notices?.hall_name);
  }).catch(() => {});
  await loadCounterChoices(last.counter);
  ($("login").value ? $("password") : $("login")).focus();
}

async function loadCounterChoices(preferred) {
  const select = $("counter-select");
  let counters = [];
  try {
    counters = listOf((await api("GET", "/api/v1/counters")).data, "counters");
  } catch {
    try {
      counters = (await api("GET", "/api/v1/board")).data?.counters ?? [];
    } catch {
      counters = [];
    }
  }
  select.replaceChildren(
    h("option", { value: "", disabled: true, selected: preferred === undefined }, t("signin.choose_counter")),
    ...counters.map((c) =>
      h("option", { value: c.id, selected: c.id === preferred }, `${tx(c.name) || c.id}`),
    ),
  );
}

async function onSignIn(ev) {
  ev.preventDefault();
  const login = $("login").value.trim();
  const password = $("password").value;
  const counter = Number($("counter-select").value);
  if (!login || !password || !counter) {
    flash(t("signin.missing"), "error");
    return;
  }
  $("signin-btn").disabled = true;
  try {
    const s = await signIn(login, password, counter);
    localStorage.setItem("hallq.staff.last", JSON.stringify({ login, counter }));
    $("password").value = "";
    for (const f of document.querySelectorAll(".flash")) f.hidden = true;
    if (s.counter === null || s.counter === undefined) {
      flash(t("signin.no_counter"), "error");
      return;
    }
    startConsole(s);
  } catch (e) {
    $("password").value = "";
    $("password").focus();
    flash(e.message, "error");
  } finally {
    $("signin-btn").disabled = false;
  }
}

async function startConsole(s) {
  state.session = s;
  $("signin").hidden = true;
  $("console").hidden = false;
  $("legend").hidden = false;
  $("sign-out").hidden = false;
  $("callbacks-link").hidden = false;
  render();
  await Promise.all([loadServices(), loadBoard(), refresh()]);
  state.events = connectEvents({
    onSnapshot: (board) => {
      applyBoard(board);
      refresh();
    },
    onUpdate: (msg) => {
      if (state.board) state.board = { ...state.board, ...msg.live, seq: msg.seq };
      state.counters = msg.live?.counters ?? state.counters;
      if ((msg.events ?? []).some((e) => e.kind === "notices_changed")) loadServices();
      refreshSoon();
    },
    onState: (up) => showLive(up),
  });
}

async function loadServices() {
  try {
    const list = listOf((await api("GET", "/api/v1/services")).data, "services");
    state.services = new Map(list.map((s) => [s.id, s]));
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) flash(e.message, "error");
  }
}

async function loadBoard() {
  try {
    applyBoard((await api("GET", "/api/v1/board")).data);
  } catch {
    // The stream's snapshot brings it too.
  }
}

function applyBoard(board) {
  if (!board) return;
  state.board = board;
  if (board.notices?.time_zone) setHallZone(board.notices.time_zone);
  state.counters = board.counters ?? state.counters;
  const min = board.notices?.thresholds?.long_service_min ?? board.notices?.long_service_min;
  if (min) state.longServiceMin = min;
  if (board.notices?.services && state.services.size === 0) {
    state.services = new Map(board.notices.services.map((s) => [s.id, s]));
  }
  render();
}

let refreshTimer = null;
/** Many updates arrive in a burst at busy times: refetch once for all of them. */
function refreshSoon() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    refresh();
  }, 150);
}

async function refresh() {
  const s = state.session;
  if (!s) return;
  try {
    const [q, a] = await Promise.all([
      api("GET", `/api/v1/counters/${s.counter}/queue`),
      api("GET", "/api/v1/alerts").catch((e) => {
        if (e.status === 401) throw e;
        return { data: null };
      }),
    ]);
    applyQueue(q.data);
    if (a.data !== null) state.alerts = a.data;
    render();
  } catch (e) {
    if (e.status !== 401) flash(e.message, "error");
  }
}

/** The counter queue body: the counter, its current ticket (with its service) and who waits for it. */
function applyQueue(d) {
  if (!d) return;
  state.counter = d.counter ?? state.counter;
  state.current = d.current ?? d.current_ticket ?? null;
  state.currentService = d.current_service ?? d.service ?? null;
  state.queue = d.queue ?? d.waiting ?? d.tickets ?? [];
  const min = d.long_service_min ?? d.thresholds?.long_service_min;
  if (min) state.longServiceMin = min;
}

// ---------------------------------------------------------------------------------------------
// What each button would do now. `null` means it cannot apply.

function counterState() {
  return state.counter?.state ?? "closed";
}

function canCall() {
  return counterState() === "open";
}

const can = {
  next: () => canCall() && state.queue.length > 0,
  recall: () => state.current?.state === "called",
  start: () => state.current?.state === "called",
  finish: () => !!state.current,
  noshow: () => state.current?.state === "called",
  transfer: () => !!state.current,
  pause: () => (counterState() === "open" && !state.current) || counterState() === "paused",
  callNumber: () => canCall(),
  close: () => counterState() !== "closed" && !state.current,
};

// ---------------------------------------------------------------------------------------------
// Actions

function wireActions() {
  const click = (id, f) =>
    $(id).addEventListener("click", (ev) => {
      ev.currentTarget.blur(); // so that a later Enter on the keypad does not press it again
      f();
    });
  click("btn-next", callNext);
  click("btn-recall", () => act("recall", "recall"));
  click("btn-start", () => act("start", "start"));
  click("btn-finish", () => act("finish", "finish"));
  click("btn-noshow", () => act("noshow", "no-show"));
  click("btn-transfer", openTransfer);
  click("btn-pause", togglePause);
  click("btn-close-counter", toggleOpen);
  click("btn-slow-system", toggleSlowSystem);
  $("call-number-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const n = $("call-number-input").value.trim().toUpperCase();
    if (!n) return;
    callNumber(n).then((ok) => {
      if (ok) {
        $("call-number-input").value = "";
        $("call-number-input").blur();
      }
    });
  });
}

/** Runs one request of the clerk; the buttons stay disabled until it is answered. */
async function run(path, body) {
  if (state.busy) return null;
  state.busy = true;
  render();
  try {
    const res = await api("POST", `/api/v1/counters/${state.session.counter}/${path}`, body);
    return res;
  } catch (e) {
    flash(e.message, "error");
    return null;
  } finally {
    state.busy = false;
    await refresh();
  }
}

async function callNext() {
  if (!can.next() || guarded()) return;
  const before = state.current?.number;
  const res = await run("next");
  if (!res) return;
  noteCall(res);
  if (res.status === 204 || !res.data) flash(before ? t("done.finished_nobody", { number: before }) : t("done.nobody"));
  else flash(t("done.called", { number: res.data.number ?? res.data.ticket?.number ?? "" }), "ok");
}

async function callNumber(number) {
  if (!can.callNumber() || guarded()) return false;
  const res = await run("call", { number });
  if (!res) return false;
  noteCall(res, number);
  flash(t("done.called", { number: res.data?.number ?? number }), "ok");
  return true;
}

/** A second "call" right after a call, with the called customer not yet arrived, is a bounced key. */
function guarded() {
  const bounce = Date.now() - state.lastCallAt < CALL_GUARD_MS &&
    state.current?.state === "called" && state.current.number === state.lastCalled;
  if (bounce) flash(t("guard.just_called", { number: state.lastCalled }), "info");
  return bounce;
}

function noteCall(res, fallback) {
  state.lastCallAt = Date.now();
  state.lastCalled = res?.data?.number ?? res?.data?.ticket?.number ?? fallback ?? null;
}

async function act(which, path) {
  if (!can[which]()) return;
  const number = state.current?.number;
  const res = await run(path);
  if (res) flash(t(`done.${which}`, { number }), "ok");
}

async function togglePause() {
  if (!can.pause()) return;
  const paused = counterState() === "paused";
  const res = await run(paused ? "open" : "pause");
  if (res) flash(t(paused ? "done.resumed" : "done.paused"), "ok");
}

async function toggleOpen() {
  if (counterState() === "closed") {
    const res = await run("open");
    if (res) flash(t("done.opened"), "ok");
  } else if (can.close()) {
    if (!confirm(t("confirm.close"))) return;
    const res = await run("close");
    if (res) flash(t("done.closed"), "ok");
  }
}

/**
 * The clerk says the business system is slow (the estimates expect longer services at once, the
 * public screens apologise), or that it is back to its usual speed.
 */
async function toggleSlowSystem() {
  if (state.busy || !state.board) return;
  const slow = Boolean(state.board.slow_since);
  if (!slow && !confirm(t("confirm.slow_start"))) return;
  state.busy = true;
  render();
  try {
    await api(slow ? "DELETE" : "POST", "/api/v1/slow-system");
    flash(t(slow ? "done.slow_ended" : "done.slow_started"), "ok");
  } catch (e) {
    flash(e.message, "error");
  } finally {
    state.busy = false;
    render();
  }
}

// Transfer: to a service (the ticket keeps its place in that service's line) or to one counter.

function openTransfer() {
  if (!can.transfer()) return;
  const cur = state.current;
  $("transfer-title").textContent = t("transfer.title", { number: cur.number });
  let n = 0;
  const choices = [];
  const choice = (label, body, disabled) => {
    n += 1;
    const key = n <= 9 ? String(n) : "";
    const b = h(
      "button",
      { type: "button", class: "choice", disabled, dataset: { key } },
      key ? h("kbd", {}, key) : null,
      label,
    );
    b.addEventListener("click", () => doTransfer(body));
    if (!disabled) choices.push({ key, body });
    return b;
  };
  const services = [...state.services.values()].filter((s) => s.enabled !== false && s.id !== cur.service);
  $("transfer-services").replaceChildren(
    ...services.map((s) => choice(`${s.prefix ?? ""} ${tx(s.name)}`, { service: s.id }, false)),
  );
  const counters = state.counters.filter((c) => c.id !== state.session.counter);
  $("transfer-counters").replaceChildren(
    ...counters.map((c) =>
      choice(
        `${tx(c.name)}${c.state === "closed" ? ` (${t("counter.closed")})` : c.state === "paused" ? ` (${t("counter.paused")})` : ""}`,
        { counter: c.id },
        c.state === "closed",
      ),
    ),
  );
  $("transfer-dialog").choices = choices;
  $("transfer-dialog").showModal();
}

async function doTransfer(body) {
  $("transfer-dialog").close();
  const number = state.current?.number;
  const res = await run("transfer", body);
  if (!res) return;
  const target = body.service
    ? tx(state.services.get(body.service)?.name) || body.service
    : tx(state.counters.find((c) => c.id === body.counter)?.name) || body.counter;
  flash(t("done.transferred", { number, target }), "ok");
}

// ---------------------------------------------------------------------------------------------
// The keypad. Keys are read by position on the numeric pad (`code`), so they work with Num Lock
// on or off; the same characters on the main keyboard work too. Nothing here fires while the
// clerk types in a field.

const PAD = {
  NumpadAdd: "+", NumpadSubtract: "-", NumpadMultiply: "*", NumpadDivide: "/",
  NumpadDecimal: ".", NumpadEnter: "Enter", NumpadComma: ".",
};

function padKey(ev) {
  if (PAD[ev.code]) return PAD[ev.code];
  const m = /^Numpad(\d)$/.exec(ev.code);
  if (m) return m[1];
  return ev.key;
}

function onKey(ev) {
  if (ev.ctrlKey || ev.altKey || ev.metaKey) return;
  const dlg = document.querySelector("dialog[open]");
  if (dlg) {
    if (dlg.id === "transfer-dialog" || dlg.id === "pick-dialog") {
      const k = padKey(ev);
      const hit = (dlg.choices ?? []).find((c) => c.key && c.key === k);
      if (hit) {
        ev.preventDefault();
        hit.run ? hit.run() : doTransfer(hit.body);
      }
    }
    return; // Esc closes the dialog by itself
  }
  const tag = ev.target?.tagName;
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
    if (ev.key === "Escape") ev.target.blur();
    return;
  }
  if (!state.session || $("console").hidden) return;
  const k = padKey(ev);
  let handled = true;
  if (/^\d$/.test(k)) {
    if (k === "0" && state.keyed === "") {
      act("start", "start");
    } else if (state.keyed.length < 6) {
      state.keyed += k;
    }
  } else if (k === "Enter") {
    if (state.keyed) {
      const digits = state.keyed;
      state.keyed = "";
      callKeyed(digits);
    } else {
      callNext();
    }
  } else if (k === "+") {
    state.keyed = "";
    callNext();
  } else if (k === "-" || k === ".") {
    act("recall", "recall");
  } else if (k === "*") {
    act("finish", "finish");
  } else if (k === "/") {
    act("noshow", "no-show");
  } else if (k === "Backspace") {
    state.keyed = state.keyed.slice(0, -1);
  } else if (k === "Escape") {
    state.keyed = "";
  } else if (k === "t" || k === "T") {
    openTransfer();
  } else if (k === "p" || k === "P") {
    togglePause();
  } else {
    handled = false;
  }
  if (handled) {
    ev.preventDefault();
    renderKeyed();
  }
}

/** Digits typed on the keypad: "7" calls A007 when it is the only waiting 7 this counter may call. */
function matchesKeyed(digits) {
  const seq = Number(digits);
  return state.queue.filter((tk) => Number(String(tk.number).replace(/^\D+/, "")) === seq);
}

function callKeyed(digits) {
  const hits = matchesKeyed(digits);
  if (hits.length === 1) {
    callNumber(hits[0].number);
  } else if (hits.length === 0) {
    flash(t("keypad.no_match", { digits }), "error");
  } else {
    const choices = hits.slice(0, 9).map((tk, i) => ({
      key: String(i + 1),
      run: () => {
        $("pick-dialog").close();
        callNumber(tk.number);
      },
    }));
    $("pick-list").replaceChildren(
      ...hits.slice(0, 9).map((tk, i) =>
        h(
          "button",
          { type: "button", class: "choice", onclick: choices[i].run },
          h("kbd", {}, String(i + 1)),
          `${tk.number} · ${serviceName(tk.service)}`,
        ),
      ),
    );
    $("pick-dialog").choices = choices;
    $("pick-dialog").showModal();
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

function serviceName(id) {
  return tx(state.services.get(id)?.name) || id || "";
}

function render() {
  const s = state.session;
  if (!s) return;
  const c = state.counter ?? state.counters.find((x) => x.id === s.counter);
  $("hall-name").textContent = tx(state.board?.notices?.hall_name);
  $("counter-name").textContent = c ? tx(c.name) : t("counter.n", { n: s.counter });
  const cs = counterState();
  $("counter-state").textContent = t(`counter.${cs}`);
  $("counter-state").className = `counter-state cs-${cs}`;
  $("who").textContent = t("who", { login: s.login ?? "", until: clockTime(s.expires_at) });
  $("manager-link").hidden = s.role !== "manager";
  renderCurrent();
  renderActions();
  renderQueue();
  renderAlerts();
  renderKeyed();
  tick();
}

function renderCurrent() {
  const cur = state.current;
  $("current").classList.toggle("empty", !cur);
  $("current-number").textContent = cur ? cur.number : "—";
  $("current-service").textContent = cur ? serviceName(cur.service) : "";
  const st = cur ? t(`ticket.${cur.state}`) : counterState() === "open" ? t("current.none") : "";
  const marks = cur
    ? [cur.priority ? t("mark.priority") : null, cur.transfers ? t("mark.transferred") : null,
       cur.recalls ? t("mark.recalled", { n: cur.recalls }) : null].filter(Boolean)
    : [];
  $("current-state").replaceChildren(
    st,
    ...marks.map((m) => h("span", { class: "mark" }, m)),
  );
  $("apology").hidden = !(cur && cur.apology);

  const tell = $("tell");
  if (!cur) {
    const hint = counterState() === "closed" ? t("current.closed_hint")
      : counterState() === "paused" ? t("current.paused_hint")
      : state.queue.length ? t("current.idle_hint") : t("current.empty_hint");
    tell.replaceChildren(h("p", { class: "idle-hint" }, hint));
    return;
  }
  const svc = { ...(state.services.get(cur.service) ?? {}), ...(state.currentService ?? {}) };
  const docs = svc.documents ?? [];
  const fees = svc.fees ?? [];
  // replaceChildren would write a null out as the text "null": absent blocks are left out.
  tell.replaceChildren(...[
    h("div", { class: "tell-block" },
      h("h3", {}, t("tell.documents")),
      docs.length ? h("ul", {}, docs.map((d) => h("li", {}, tx(d)))) : h("p", { class: "muted" }, t("tell.none"))),
    h("div", { class: "tell-block" },
      h("h3", {}, t("tell.fees")),
      fees.length
        ? h("table", { class: "fees" }, fees.map((f) => h("tr", {}, h("td", {}, tx(f.item)), h("td", { class: "amount" }, tx(f.amount)))))
        : h("p", { class: "muted" }, t("tell.no_fees"))),
    svc.reminder
      ? h("div", { class: "tell-block reminder" }, h("h3", {}, t("tell.reminder")), h("p", {}, tx(svc.reminder)))
      : null,
  ].filter(Boolean));
}

function setButton(id, enabled, label, sub) {
  const b = $(id);
  b.disabled = !enabled || state.busy;
  const main = b.querySelector(".btn-main");
  if (main) main.textContent = label;
  const subEl = b.querySelector(".btn-sub");
  if (subEl) subEl.textContent = sub ?? "";
}

function renderActions() {
  const cur = state.current;
  const n = cur?.number ?? "";
  const next = state.queue[0]?.number;
  const cs = counterState();
  let nextSub = "";
  if (cs === "paused") nextSub = t("why.paused");
  else if (cs === "closed") nextSub = t("why.closed");
  else if (!next) nextSub = t("why.nobody");
  else if (cur) nextSub = t("next.finishes", { number: n });
  setButton("btn-next", can.next(), next && cs === "open" ? t("btn.next_n", { number: next }) : t("btn.next"), nextSub);
  setButton("btn-recall", can.recall(), cur ? t("btn.recall_n", { number: n }) : t("btn.recall"));
  setButton("btn-start", can.start(), cur ? t("btn.start_n", { number: n }) : t("btn.start"));
  setButton("btn-finish", can.finish(), cur ? t("btn.finish_n", { number: n }) : t("btn.finish"));
  setButton("btn-noshow", can.noshow(), cur ? t("btn.noshow_n", { number: n }) : t("btn.noshow"));
  setButton("btn-transfer", can.transfer(), cur ? t("btn.transfer_n", { number: n }) : t("btn.transfer"));
  setButton("btn-pause", can.pause(), cs === "paused" ? t("btn.resume") : t("btn.pause"));
  $("btn-pause").classList.toggle("btn-primary", cs === "paused");
  $("btn-call-number").disabled = !can.callNumber() || state.busy;
  $("call-number-input").disabled = !can.callNumber();
  const close = $("btn-close-counter");
  close.textContent = cs === "closed" ? t("btn.open") : t("btn.close");
  close.classList.toggle("btn-primary", cs === "closed");
  close.disabled = state.busy || (cs !== "closed" && !can.close());
  $("actions").classList.toggle("counter-closed", cs === "closed");
}

function renderQueue() {
  const q = state.queue;
  $("queue-count").textContent = t("queue.count", { n: q.length });
  const now = hubNow();
  $("queue").replaceChildren(
    ...(q.length
      ? q.map((tk, i) => {
          const waited = now - Date.parse(tk.issued_at);
          return h("li", { class: `q-item${tk.priority ? " q-priority" : ""}${i === 0 ? " q-first" : ""}` },
            h("span", { class: "q-number" }, tk.number),
            h("span", { class: "q-service" }, serviceName(tk.service)),
            tk.priority ? h("span", { class: "mark mark-priority" }, t("mark.priority")) : null,
            tk.for_counter ? h("span", { class: "mark" }, t("mark.for_me")) : tk.transfers ? h("span", { class: "mark" }, t("mark.transferred")) : null,
            h("span", { class: "q-wait", dataset: { issued: tk.issued_at } }, waitedText(waited)));
        })
      : [h("li", { class: "q-empty" }, t("queue.empty"))]),
  );
}

/**
 * The hub's alerts (`GET /api/v1/alerts`): kiosk printers that need a person, services with a long
 * wait, an outage going on, pending callbacks, the callbacks of the last outage that ended, and the
 * staffing advice (a service whose new customers would wait past the target: with one more counter).
 * Between two fetches, the board (live over the stream) keeps the outage and long waits current.
 */
function alertItems() {
  const a = state.alerts ?? {};
  const board = state.board;
  const items = [];
  for (const p of a.printers ?? []) {
    items.push({ cls: "al-printer", text: t("alert.printer", { device: p.device, problem: t(`printer.${p.printer}`) }) });
  }
  // The hub's disk is full (tickets refused) or nearly so: only a person can free space.
  if (a.storage?.problem) {
    items.push({ cls: "al-clock", text: tx(a.storage.problem) });
  }
  // The hub's clock is known to be wrong (a Pi without a real-time clock, NTP not answering).
  if (a.clock?.problem) {
    items.push({ cls: "al-clock", text: tx(a.clock.problem) });
  }
  const outage = board ? board.outage : a.outage;
  if (outage) {
    items.push({
      cls: "al-outage",
      text: t(outage.kind === "long" ? "alert.outage_long" : "alert.outage_short", {
        since: clockTime(outage.started_at), until: clockTime(outage.expected_end),
      }),
    });
  }
  const slowSince = board ? board.slow_since : null;
  if (slowSince && !outage) {
    // How the services since the mark compare with before it: what the mark rests on.
    const pace = slowPace(a.slow_pace);
    const paceText = pace ? t(`alert.${pace.key}`, pace) + (pace.few ? t("alert.slow_pace_few") : "") : "";
    items.push({ cls: "al-slow", text: t("alert.slow_system", { since: clockTime(slowSince) }) + paceText });
    // The detector sees the system answer at its usual speed again: perhaps the mark was forgotten.
    if (a.slow_end_proposed) {
      items.push({ cls: "al-slow al-slow-quick", text: t("alert.slow_system_quick") });
    } else if (pace?.usualAgain) {
      // The counters' own latest services say the same, with or without a detector.
      items.push({ cls: "al-slow al-slow-quick al-slow-usual", text: t(`alert.${pace.usualKey}`, pace) });
    }
  }
  const ended = a.last_outage;
  const waitingCallers = ended?.callbacks_open ?? 0;
  // `a` is from the last fetch: while it still has an outage going on, its `last_outage` is an
  // earlier one, and the one that just ended comes with the next fetch.
  if (ended && !outage && !a.outage && waitingCallers > 0) {
    items.push({
      cls: "al-outage-ended",
      text: t("alert.outage_ended", { n: waitingCallers, at: clockTime(ended.ended_at) }),
      link: `callbacks.html?outage=${ended.id}`,
    });
  }
  const longWaits = board ? (board.waiting ?? []).filter((w) => w.long_wait) : a.long_wait ?? [];
  for (const w of longWaits) {
    // Nobody in line and still a long wait: the counters that call it call other services first.
    const key = w.waiting > 0 ? "alert.long_wait" : "alert.long_wait_behind";
    items.push({ cls: "al-wait", text: t(key, { service: tx(w.name), n: w.waiting, m: minutes(w.estimated_wait_s * 1000) }) });
  }
  // Staffing advice: only services whose new customers wait past the target, now or soon.
  for (const s of a.staffing ?? []) {
    if (s.message) {
      items.push({ cls: s.standing === "over" ? "al-staffing al-over" : "al-staffing", text: tx(s.message), service: s.service });
    }
  }
  if (a.callbacks_pending > 0) {
    items.push({ cls: "al-callback", text: t("alert.callbacks", { n: a.callbacks_pending }), link: "callbacks.html" });
  }
  return items;
}

function renderAlerts() {
  const items = alertItems();
  const slow = Boolean(state.board?.slow_since);
  const slowBtn = $("btn-slow-system");
  slowBtn.textContent = slow ? t("btn.slow_end") : t("btn.slow_start");
  slowBtn.classList.toggle("is-slow", slow);
  slowBtn.disabled = state.busy || !state.board;
  const pending = state.alerts?.callbacks_pending ?? 0;
  const badge = $("callbacks-badge");
  badge.hidden = !pending;
  badge.textContent = pending ? String(pending) : "";
  $("alerts-card").classList.toggle("has-alerts", items.length > 0);
  $("alerts").replaceChildren(
    ...(items.length
      ? items.map(({ cls, text, link, service }) =>
          h("li", { class: `alert ${cls}`, "data-service": service },
            h("span", {}, text), link ? h("a", { href: link }, t("alert.open_callbacks")) : null))
      : [h("li", { class: "alert al-none" }, t("alerts.none"))]),
  );
}

function renderKeyed() {
  const el = $("keypad-entry");
  if (!state.keyed) {
    el.textContent = "";
    el.classList.remove("active");
    return;
  }
  const hits = matchesKeyed(state.keyed);
  el.classList.add("active");
  el.textContent = hits.length === 1
    ? t("keypad.will_call", { digits: state.keyed, number: hits[0].number })
    : hits.length > 1 ? t("keypad.several", { digits: state.keyed, n: hits.length })
    : t("keypad.typed", { digits: state.keyed });
}

function waitedText(ms) {
  const m = minutes(ms);
  return m < 1 ? t("queue.just_now") : t("queue.waited", { m });
}

/** Once a second: the service timer and the waiting times. */
function tick() {
  const cur = state.current;
  const timer = $("timer");
  if (!cur) {
    timer.hidden = true;
  } else {
    const from = Date.parse(cur.state === "serving" ? cur.started_at ?? cur.called_at : cur.called_at ?? cur.issued_at);
    const ms = hubNow() - from;
    const limit = state.longServiceMin * 60000;
    timer.hidden = false;
    timer.textContent = `${cur.state === "serving" ? t("timer.serving") : t("timer.called")} ${duration(ms)}`;
    timer.className = `timer ${ms >= limit ? "timer-red" : ms >= (limit * 2) / 3 ? "timer-amber" : "timer-ok"}`;
    timer.title = t("timer.title", { min: state.longServiceMin });
  }
  const now = hubNow();
  for (const el of document.querySelectorAll(".q-wait[data-issued]")) {
    el.textContent = waitedText(now - Date.parse(el.dataset.issued));
  }
}
