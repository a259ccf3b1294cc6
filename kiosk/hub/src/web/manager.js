//! The hall manager's page: edit and publish the hall configuration, accounts and device tokens,
//! start and end an outage while watching long waits, period reports with charts and CSV, the
//! audit log. Everything goes through the hub's manager API; the board picks up a published change
//! from the hub's event stream.

import {
  api, clockTime, connectEvents, flash, h, lang, session, setHallZone, showLive,
  signIn, signOut, slowPace, translatePage, whenSignedOut, wireLangSwitch,
} from "./common.js";
import { M } from "./manager-i18n.js";
import { drawBarChart, drawHourChart } from "./manager-charts.js";

const $ = (id) => document.getElementById(id);

/** A string of this page in the current language, `{name}` filled from `vars`. */
function m(key, vars = {}) {
  const e = M[key];
  let s = e ? (lang() === "en" ? e.en : e.zh) : key;
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

function translateMine() {
  for (const el of document.querySelectorAll("[data-m]")) el.textContent = m(el.dataset.m);
}

const state = {
  tab: "publish",
  config: null,
  saved: null,
  section: "hall",
  board: null,
  report: null,
  /** `GET /api/v1/staffing`. */
  staffing: null,
};

// ---------------------------------------------------------------------------------------------
// Start, sign-in, tabs

function start() {
  translatePage();
  translateMine();
  wireLangSwitch(() => {
    translateMine();
    renderAll();
  });
  whenSignedOut(() => showSignIn(m("err.session")));
  $("signin-form").addEventListener("submit", onSignIn);
  $("sign-out").addEventListener("click", async () => {
    await signOut();
    showSignIn();
  });
  for (const b of document.querySelectorAll(".mg-tab")) {
    b.addEventListener("click", () => selectTab(b.dataset.tab));
  }
  $("publish-save").addEventListener("click", publish);
  $("publish-reload").addEventListener("click", () => {
    if (!isDirty() || confirm(m("publish.discard"))) loadConfig();
  });
  $("account-form").addEventListener("submit", addAccount);
  $("device-form").addEventListener("submit", addDevice);
  $("dev-role").addEventListener("change", showDeviceCounter);
  $("outage-form").addEventListener("submit", startOutage);
  $("out-end").addEventListener("click", endOutage);
  $("report-form").addEventListener("submit", (e) => {
    e.preventDefault();
    loadReport();
  });
  $("rep-csv").addEventListener("click", downloadCsv);
  $("audit-reload").addEventListener("click", loadAudit);
  window.addEventListener("beforeunload", (e) => {
    if (isDirty()) e.preventDefault();
  });
  const tab = location.hash.replace("#", "");
  if ($(`panel-${tab}`)) state.tab = tab;
  const s = session();
  if (s && s.role === "manager") showManager();
  else showSignIn(s ? m("err.not_manager") : undefined);
}

function showSignIn(message) {
  $("manager").hidden = true;
  $("signin").hidden = false;
  $("sign-out").hidden = true;
  $("who").textContent = "";
  if (message) flash(message, "error");
}

async function onSignIn(e) {
  e.preventDefault();
  try {
    const s = await signIn($("login").value.trim(), $("password").value);
    if (s.role !== "manager") {
      await signOut();
      flash(m("err.not_manager"), "error");
      return;
    }
    $("password").value = "";
    showManager();
  } catch (err) {
    flash(err.message, "error");
  }
}

let events = null;

function showManager() {
  const s = session();
  $("signin").hidden = true;
  $("manager").hidden = false;
  $("sign-out").hidden = false;
  $("who").textContent = s.login ?? "";
  if (!$("rep-date").value) $("rep-date").value = localDate();
  selectTab(state.tab);
  loadConfig();
  refreshBoard();
  refreshCentral();
  if (!events) {
    events = connectEvents({
      onSnapshot: (board) => setBoard(board),
      onUpdate: () => refreshBoard(),
      onState: (up) => showLive(up),
    });
  }
}

function selectTab(tab) {
  state.tab = tab;
  history.replaceState(null, "", `#${tab}`);
  for (const b of document.querySelectorAll(".mg-tab")) {
    b.setAttribute("aria-selected", b.dataset.tab === tab ? "true" : "false");
  }
  for (const p of document.querySelectorAll(".mg-panel")) p.hidden = p.id !== `panel-${tab}`;
  if (tab === "accounts") loadAccounts();
  if (tab === "reports" && !state.report) loadReport();
  if (tab === "audit") loadAudit();
  if (tab === "outage") {
    renderOutage();
    loadProbe();
  }
}

function renderAll() {
  renderEditor();
  renderOutage();
  renderStaffing();
  if (state.report) renderReport();
  if (state.tab === "accounts") loadAccounts();
  if (state.tab === "audit") loadAudit();
}

function localDate() {
  const zone = state.board?.notices?.time_zone;
  const f = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" });
  return f.format(new Date());
}

// ---------------------------------------------------------------------------------------------
// The board (live): outage state and long waits

async function refreshBoard() {
  refreshStaffing();
  try {
    const { data } = await api("GET", "/api/v1/board");
    setBoard(data);
  } catch {
    // The event stream reconnects by itself; the next update refreshes.
  }
}

let staffingTimer = null;
let centralTimer = null;

/**
 * Whether the hall ships its callbacks' phone numbers to central (`GET /api/v1/central`, the
 * answer of central to the last batch), said on every tab while it does; asked once a minute.
 */
async function refreshCentral() {
  clearTimeout(centralTimer);
  centralTimer = setTimeout(refreshCentral, 60000);
  try {
    const { data } = await api("GET", "/api/v1/central");
    $("central-phones").hidden = data?.central?.callback_phones !== true;
    renderPublished(data?.central?.published);
  } catch {
    // Asked again at the next refresh.
  }
}

/**
 * Which version of head office's published texts the hall runs, and a refusal, on the publish tab;
 * nothing when the hall does not ship to central.
 */
function renderPublished(p) {
  const el = $("central-published");
  if (!p) {
    el.hidden = true;
    return;
  }
  const runs = document.createElement("span");
  if (p.version != null) {
    const at = p.applied_at != null ? new Date(p.applied_at).toLocaleString("zh-CN", { hour12: false }) : "—";
    runs.textContent = m("central.published", { v: p.version, at });
  } else {
    runs.textContent = m("central.published.none");
  }
  const parts = [runs];
  if (p.error) {
    const refused = document.createElement("span");
    refused.className = "refused";
    refused.textContent = ` ${m("central.published.refused", { why: p.error })}`;
    parts.push(refused);
  }
  el.replaceChildren(...parts);
  el.hidden = false;
}

/**
 * The staffing advice (`GET /api/v1/staffing`), fetched with every board update and once a minute:
 * the arrival rate it looks at moves with the clock too.
 */
async function refreshStaffing() {
  clearTimeout(staffingTimer);
  staffingTimer = setTimeout(refreshStaffing, 60000);
  try {
    const { data } = await api("GET", "/api/v1/staffing");
    state.staffing = data;
    renderStaffing();
  } catch {
    // Shown again at the next refresh.
  }
}

/** One line per service that passes the target or soon will, or that may close a counter; nothing when all is well. */
function renderStaffing() {
  const speaking = (state.staffing?.services ?? []).filter((a) => a.message);
  $("staffing").hidden = speaking.length === 0;
  $("staffing-title").textContent = m("staff.title", { min: state.staffing?.target_wait_min ?? 15 });
  $("staffing-list").replaceChildren(...speaking.map((a) =>
    h("li", { class: a.standing === "over" ? "mg-over" : a.standing === "spare" ? "mg-spare" : "", "data-service": a.service },
      text(a.message),
      h("span", { class: "mg-need" }, m("staff.need", { n: a.counters_needed, open: a.load.counters_open })))));
}

function setBoard(board) {
  state.board = board;
  if (board?.notices) {
    setHallZone(board.notices.time_zone);
    $("hall-name").textContent = text(board.notices.hall_name);
  }
  renderOutage();
}

function text(t) {
  if (!t) return "";
  if (typeof t === "string") return t;
  return lang() === "en" && t.en ? t.en : t.zh ?? "";
}

function renderOutage() {
  const live = state.board;
  if (!live) return;
  const mode = live.mode ?? "normal";
  const modeEl = $("board-mode");
  modeEl.className = `mg-mode mg-mode-${mode}`;
  modeEl.dataset.mode = mode;
  modeEl.textContent = m(`mode.${mode}`);
  const o = live.outage;
  $("outage-now").replaceChildren(
    o
      ? h("div", { class: "mg-outage-box" },
        h("div", {}, m("out.since", { at: clockTime(o.started_at), end: clockTime(o.expected_end) })),
        o.message ? h("div", { class: "mg-outage-msg" }, text(o.message)) : null,
        h("div", { class: "hint" }, m(o.kind === "long" ? "out.long" : "out.short")))
      : live.slow_since
        ? h("div", { class: "mg-outage-box", id: "slow-now" },
          h("div", {}, m("out.slow_since", { at: clockTime(live.slow_since) })),
          h("div", { class: "hint", id: "slow-pace" }, slowPaceText()),
          h("div", { id: "slow-pace-end" }, slowPaceEnd()),
          h("button", { type: "button", class: "btn mg-small", onclick: () => setSlow(false) }, m("out.slow_end")))
        : h("p", { class: "hint" }, m("out.none")),
  );
  $("out-start").disabled = !!o;
  renderProbe();
  $("out-end").disabled = !o;
  const rows = (live.waiting ?? []).slice().sort((a, b) => Number(b.long_wait) - Number(a.long_wait) || b.estimated_wait_s - a.estimated_wait_s);
  $("waiting-table").replaceChildren(
    h("thead", {}, h("tr", {}, h("th", {}, m("wait.service")), h("th", { class: "num" }, m("wait.waiting")),
      h("th", { class: "num" }, m("wait.estimate")), h("th", {}, m("wait.state")))),
    h("tbody", {}, rows.map((w) => h("tr", { class: w.long_wait ? "mg-long" : "" },
      h("td", {}, `${w.prefix} · ${text(w.name)}`),
      h("td", { class: "num" }, w.waiting),
      h("td", { class: "num" }, m("min", { n: Math.ceil(w.estimated_wait_s / 60) })),
      h("td", {}, w.long_wait ? m("wait.long") : m("wait.ok"))))),
  );
}

let probeTimer = null;

/** How the services since the slow mark compare with before it (from `GET /alerts`). */
function slowPaceText() {
  const p = slowPace(state.slowPace);
  return p ? m(`out.${p.key}`, p) + (p.few ? m("out.slow_pace_few") : "") : m("out.slow_pace_none");
}

/**
 * The proposal to end the slow mark that the counters' latest services make (about as quick as
 * before it), with or without a detector; null while they do not, or the detector proposes it.
 */
function slowPaceEnd() {
  const p = slowPace(state.slowPace);
  if (!p?.usualAgain || (state.probe?.slow_end_proposed && state.probe?.configured)) return null;
  return h("div", { class: "mg-proposal mg-proposal-ok", id: "pace-slow-end-proposal" }, m(`out.${p.usualKey}`, p));
}

/** The outage detector's view, refreshed while the outage tab is open. */
async function loadProbe() {
  clearTimeout(probeTimer);
  if (state.tab !== "outage" || $("manager").hidden) return;
  try {
    const { data } = await api("GET", "/api/v1/outage/probe");
    state.probe = data;
    renderProbe();
    if (state.board?.slow_since) {
      state.slowPace = (await api("GET", "/api/v1/alerts")).data.slow_pace;
      $("slow-pace")?.replaceChildren(slowPaceText());
      $("slow-pace-end")?.replaceChildren(...[slowPaceEnd()].filter(Boolean));
    }
  } catch {
    // Shown again at the next refresh.
  }
  probeTimer = setTimeout(loadProbe, 10000);
}

function renderProbe() {
  const p = state.probe;
  const box = $("probe");
  if (!p) return;
  if (!p.configured) {
    box.replaceChildren(h("p", { class: "hint" }, m("probe.off")));
    return;
  }
  const inOutage = !!state.board?.outage;
  const slow = !!state.board?.slow_since;
  box.replaceChildren(...[
    p.failures || !p.slow_answers
      ? h("div", { class: `mg-probe-line ${p.failures ? "mg-probe-bad" : "mg-probe-ok"}` },
        p.failures
          ? m("probe.failing", { address: p.address, n: p.failures, of: p.threshold, error: p.last_error ?? "" })
          : m("probe.ok", { address: p.address, at: clockTime(p.checked_at) }))
      : null,
    p.proposed && !inOutage
      ? h("div", { class: "mg-proposal", id: "probe-proposal" }, m("probe.proposed", { n: p.threshold }),
        h("button", { type: "button", class: "btn btn-danger mg-small", onclick: () => $("outage-form").requestSubmit() }, m("out.start")))
      : null,
    p.started_outage && inOutage ? h("div", { class: "hint" }, m("probe.started")) : null,
    p.answer_ms != null && !p.failures
      ? h("div", { class: `mg-probe-line ${p.slow_answers ? "mg-probe-bad" : "mg-probe-ok"}`, id: "probe-speed" },
        p.slow_answers
          ? m("probe.slow", { address: p.address, at: clockTime(p.checked_at), ms: p.answer_ms, n: p.slow_answers, of: p.threshold, limit: p.slow_limit_ms })
          : p.usual_ms != null
            ? m("probe.speed", { ms: p.answer_ms, usual: p.usual_ms, limit: p.slow_limit_ms })
            : p.slow_limit_ms != null
              ? m("probe.speed_limit", { ms: p.answer_ms, limit: p.slow_limit_ms })
              : m("probe.speed_learning", { ms: p.answer_ms }))
      : null,
    p.slow_proposed && !slow && !inOutage
      ? h("div", { class: "mg-proposal", id: "probe-slow-proposal" }, m("probe.slow_proposed", { n: p.threshold }),
        h("button", { type: "button", class: "btn btn-danger mg-small", onclick: () => setSlow(true) }, m("probe.mark_slow")))
      : null,
    p.started_slow && slow
      ? h("div", { class: "hint" }, m(p.slow_limit_ms != null ? "probe.started_slow" : "probe.started_slow_unknown"))
      : null,
    p.slow_end_proposed && slow
      ? h("div", { class: "mg-proposal mg-proposal-ok", id: "probe-slow-end-proposal" }, m("probe.slow_end_proposed", { n: p.threshold * 2 }),
        h("button", { type: "button", class: "btn mg-small", onclick: () => setSlow(false) }, m("out.slow_end")))
      : null,
  ].filter(Boolean));
}

/**
 * The manager marks the business system slow (following the detector's proposal) or back to its
 * usual speed.
 */
async function setSlow(slow) {
  try {
    await api(slow ? "POST" : "DELETE", "/api/v1/slow-system");
    flash(m(slow ? "probe.marked_slow" : "out.slow_ended"), "ok");
    refreshBoard();
  } catch (err) {
    flash(err.message, "error");
  }
}

async function startOutage(e) {
  e.preventDefault();
  const minutes = Number($("out-minutes").value);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
    flash(m("out.bad_minutes"), "error");
    return;
  }
  const message = $("out-message").value.trim();
  try {
    await api("POST", "/api/v1/outage", { expected_minutes: minutes, ...(message ? { message } : {}) });
    flash(m("out.started"), "ok");
    refreshBoard();
  } catch (err) {
    flash(err.message, "error");
  }
}

async function endOutage() {
  if (!confirm(m("out.confirm_end"))) return;
  try {
    await api("DELETE", "/api/v1/outage");
    flash(m("out.ended"), "ok");
    refreshBoard();
  } catch (err) {
    flash(err.message, "error");
  }
}

// ---------------------------------------------------------------------------------------------
// Publish: the hall configuration, edited in place and sent whole

async function loadConfig() {
  try {
    const { data } = await api("GET", "/api/v1/config");
    state.config = data;
    state.saved = JSON.stringify(data);
    $("publish-error").hidden = true;
    renderEditor();
  } catch (err) {
    flash(err.message, "error");
  }
}

function isDirty() {
  return state.config && JSON.stringify(state.config) !== state.saved;
}

function changed() {
  $("dirty").hidden = !isDirty();
}

async function publish() {
  const problem = checkConfig(state.config);
  if (problem) {
    showPublishError(problem);
    return;
  }
  $("publish-save").disabled = true;
  try {
    const { data } = await api("PUT", "/api/v1/config", state.config);
    state.config = data;
    state.saved = JSON.stringify(data);
    $("publish-error").hidden = true;
    renderEditor();
    flash(m("publish.done"), "ok");
  } catch (err) {
    showPublishError(err.message);
  } finally {
    $("publish-save").disabled = false;
  }
}

function showPublishError(msg) {
  const el = $("publish-error");
  el.textContent = `${m("publish.refused")} ${msg}`;
  el.hidden = false;
  flash(msg, "error");
}

/** What the page can tell before asking the hub: the hub still checks everything. */
function checkConfig(c) {
  const blank = (t) => !t || !String(t.zh ?? "").trim();
  if (blank(c.hall.name)) return m("chk.hall_name");
  for (const [i, x] of c.commitments.entries()) if (blank(x)) return m("chk.text", { what: m("sec.commitments"), n: i + 1 });
  for (const [i, x] of c.notices.entries()) if (blank(x)) return m("chk.text", { what: m("sec.notices"), n: i + 1 });
  for (const [i, f] of c.fee_schedule.entries()) {
    if (blank(f.item) || blank(f.amount)) return m("chk.fee", { what: m("sec.fees"), n: i + 1 });
  }
  const prefixes = new Set();
  for (const s of c.services) {
    const name = s.name?.zh || s.id;
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(s.id)) return m("chk.service_id", { id: s.id });
    if (!/^[A-Z]$/.test(s.prefix)) return m("chk.prefix", { name });
    if (prefixes.has(s.prefix)) return m("chk.prefix_twice", { p: s.prefix });
    prefixes.add(s.prefix);
    if (blank(s.name)) return m("chk.service_name", { id: s.id });
    for (const f of s.fees) if (blank(f.item) || blank(f.amount)) return m("chk.fee", { what: name, n: s.fees.indexOf(f) + 1 });
  }
  for (const k of c.counters) {
    if (blank(k.name)) return m("chk.counter_name", { n: k.id });
    if (!k.services.length) return m("chk.counter_services", { n: k.id });
  }
  const h = c.hours;
  if (!(h.opening < h.last_ticket && h.last_ticket <= h.closing)) return m("chk.hours");
  return null;
}

const SECTIONS = ["hall", "hours", "fees", "commitments", "notices", "services", "counters"];

function renderEditor() {
  const c = state.config;
  if (!c) return;
  $("sections").replaceChildren(
    ...SECTIONS.map((s) => h("button", {
      type: "button", class: `mg-sec${s === state.section ? " active" : ""}`, dataset: { section: s },
      onclick: () => {
        state.section = s;
        renderEditor();
      },
    }, m(`sec.${s}`))),
  );
  const ed = $("editor");
  const body = {
    hall: editHall, hours: editHours, fees: editFees, commitments: editCommitments,
    notices: editNotices, services: editServices, counters: editCounters,
  }[state.section](c);
  ed.replaceChildren(h("h2", {}, m(`sec.${state.section}`)), body);
  changed();
}

/** A text input bound to `obj[key]`. */
function field(label, obj, key, attrs = {}) {
  const input = h("input", {
    value: obj[key] ?? "", ...attrs,
    oninput: (e) => {
      obj[key] = attrs.type === "number" ? Number(e.target.value) : e.target.value;
      changed();
    },
  });
  return h("label", { class: "mg-field" }, h("span", {}, label), input);
}

/** A whole number bound to `obj[key]`, or null while the field is empty. */
function optionalNumber(label, obj, key, attrs = {}) {
  const input = h("input", {
    type: "number", step: 1, value: obj[key] ?? "", ...attrs,
    oninput: (e) => {
      obj[key] = e.target.value === "" ? null : Number(e.target.value);
      changed();
    },
  });
  return h("label", { class: "mg-field" }, h("span", {}, label), input);
}

/** A bilingual text `{zh, en}` bound to `obj[key]`. */
function textField(label, obj, key, attrs = {}) {
  if (!obj[key]) obj[key] = { zh: "", en: "" };
  const t = obj[key];
  return h("div", { class: "mg-text" },
    h("span", { class: "mg-text-label" }, label),
    h("input", { class: "zh", placeholder: "中文", value: t.zh ?? "", ...attrs, oninput: (e) => { t.zh = e.target.value; changed(); } }),
    h("input", { class: "en", placeholder: "English", value: t.en ?? "", ...attrs, oninput: (e) => { t.en = e.target.value; changed(); } }));
}

function removeButton(onclick) {
  return h("button", { type: "button", class: "mg-x", title: m("remove"), "aria-label": m("remove"), onclick }, "×");
}

function moveButtons(list, i) {
  return [
    h("button", { type: "button", class: "mg-mv", title: m("up"), disabled: i === 0, onclick: () => { [list[i - 1], list[i]] = [list[i], list[i - 1]]; renderEditor(); } }, "↑"),
    h("button", { type: "button", class: "mg-mv", title: m("down"), disabled: i === list.length - 1, onclick: () => { [list[i + 1], list[i]] = [list[i], list[i + 1]]; renderEditor(); } }, "↓"),
  ];
}

/** An editable list of bilingual lines (documents, steps, commitments, notices). */
function textList(list, label, addLabel) {
  return h("div", { class: "mg-list" },
    list.map((t, i) => h("div", { class: "mg-row" },
      h("span", { class: "mg-n" }, i + 1),
      h("input", { class: "zh", placeholder: "中文", value: t.zh, oninput: (e) => { t.zh = e.target.value; changed(); } }),
      h("input", { class: "en", placeholder: "English", value: t.en, oninput: (e) => { t.en = e.target.value; changed(); } }),
      moveButtons(list, i),
      removeButton(() => { list.splice(i, 1); renderEditor(); }))),
    h("button", { type: "button", class: "btn mg-add", onclick: () => { list.push({ zh: "", en: "" }); renderEditor(); } }, addLabel ?? m("add_line", { what: label })));
}

/** An editable fee table: item and amount, both bilingual. */
function feeList(list, testid) {
  return h("div", { class: "mg-list mg-fees", dataset: { fees: testid } },
    h("div", { class: "mg-row mg-head" }, h("span", { class: "mg-n" }, ""), h("span", {}, m("fee.item")), h("span", {}, m("fee.item_en")), h("span", {}, m("fee.amount")), h("span", {}, m("fee.amount_en"))),
    list.map((f, i) => h("div", { class: "mg-row mg-fee" },
      h("span", { class: "mg-n" }, i + 1),
      h("input", { class: "fee-item", value: f.item.zh, placeholder: "项目", oninput: (e) => { f.item.zh = e.target.value; changed(); } }),
      h("input", { class: "fee-item-en", value: f.item.en, placeholder: "Item", oninput: (e) => { f.item.en = e.target.value; changed(); } }),
      h("input", { class: "fee-amount", value: f.amount.zh, placeholder: "26元/月", oninput: (e) => { f.amount.zh = e.target.value; changed(); } }),
      h("input", { class: "fee-amount-en", value: f.amount.en, placeholder: "26 yuan/month", oninput: (e) => { f.amount.en = e.target.value; changed(); } }),
      moveButtons(list, i),
      removeButton(() => { list.splice(i, 1); renderEditor(); }))),
    h("button", { type: "button", class: "btn mg-add", onclick: () => { list.push({ item: { zh: "", en: "" }, amount: { zh: "", en: "" } }); renderEditor(); } }, m("fee.add")));
}

function editHall(c) {
  return h("div", { class: "mg-grid" },
    textField(m("hall.name"), c.hall, "name"),
    field(m("hall.complaint"), c.hotlines, "complaint", { maxlength: 32 }),
    field(m("hall.consultation"), c.hotlines, "consultation", { maxlength: 32 }),
    h("p", { class: "hint" }, m("hall.hint")));
}

function editHours(c) {
  const th = c.thresholds;
  return h("div", {},
    h("h3", {}, m("hours.title")),
    h("div", { class: "mg-grid mg-grid3" },
      field(m("hours.opening"), c.hours, "opening", { type: "time", required: true }),
      field(m("hours.last_ticket"), c.hours, "last_ticket", { type: "time", required: true }),
      field(m("hours.closing"), c.hours, "closing", { type: "time", required: true })),
    h("h3", {}, m("th.title")),
    h("div", { class: "mg-grid mg-grid2" },
      field(m("th.long_wait"), th, "long_wait_min", { type: "number", min: 1, max: 600 }),
      field(m("th.long_service"), th, "long_service_min", { type: "number", min: 1, max: 600 }),
      field(m("th.long_outage"), th, "long_outage_min", { type: "number", min: 1, max: 1440 }),
      field(m("th.target_wait"), th, "target_wait_min", { type: "number", min: 1, max: 600 })),
    h("p", { class: "hint" }, m("th.hint")));
}

function editFees(c) {
  return h("div", {}, h("p", { class: "hint" }, m("fees.hint")), feeList(c.fee_schedule, "schedule"));
}

function editCommitments(c) {
  return h("div", {}, h("p", { class: "hint" }, m("commit.hint")), textList(c.commitments, m("sec.commitments")));
}

function editNotices(c) {
  return h("div", {}, h("p", { class: "hint" }, m("notice.hint")), textList(c.notices, m("sec.notices")));
}

function editServices(c) {
  const open = state.openService ?? c.services[0]?.id;
  return h("div", { class: "mg-services" },
    c.services.map((s, i) => {
      const details = h("details", { class: "mg-service", open: s.id === open, dataset: { service: s.id } },
        h("summary", {},
          h("span", { class: "mg-prefix" }, s.prefix),
          h("span", { class: "mg-sname" }, text(s.name) || s.id),
          h("span", { class: s.enabled ? "mg-on" : "mg-off" }, s.enabled ? m("svc.enabled") : m("svc.disabled"))),
        h("div", { class: "mg-grid mg-grid5" },
          field(m("svc.id"), s, "id", { maxlength: 32, readonly: savedServiceIds().has(s.id) }),
          field(m("svc.prefix"), s, "prefix", { maxlength: 1, class: "mg-upper" }),
          field(m("svc.weight"), s, "weight", { type: "number", min: 0, max: 100 }),
          optionalNumber(m("svc.usual"), s, "usual_minutes", { min: 1, max: 240, placeholder: "5", class: "svc-usual", title: m("svc.usual_hint") }),
          h("label", { class: "mg-field mg-check" }, h("span", {}, m("svc.enabled")),
            h("input", { type: "checkbox", class: "svc-enabled", checked: s.enabled, onchange: (e) => { s.enabled = e.target.checked; renderEditor(); } }))),
        textField(m("svc.name"), s, "name"),
        h("h4", {}, m("svc.documents")), textList(s.documents, m("svc.documents")),
        h("h4", {}, m("svc.steps")), textList(s.steps, m("svc.steps")),
        h("h4", {}, m("svc.fees")), feeList(s.fees, s.id),
        h("h4", {}, m("svc.reminder")),
        reminderField(s),
        h("div", { class: "mg-actions" },
          h("button", { type: "button", class: "btn", onclick: () => { if (confirm(m("svc.confirm_remove"))) { c.services.splice(i, 1); for (const k of c.counters) k.services = k.services.filter((x) => x !== s.id); renderEditor(); } } }, m("svc.remove"))));
      details.addEventListener("toggle", () => { if (details.open) state.openService = s.id; });
      return details;
    }),
    h("button", { type: "button", class: "btn mg-add", onclick: addService }, m("svc.add")),
    h("p", { class: "hint" }, m("svc.hint")));
}

/** Services already published keep their id: tickets and history refer to it. */
function savedServiceIds() {
  return new Set(JSON.parse(state.saved ?? "{\"services\":[]}").services.map((x) => x.id));
}

function reminderField(s) {
  const on = !!s.reminder;
  const box = h("div", {});
  box.append(h("label", { class: "mg-check" },
    h("input", { type: "checkbox", checked: on, onchange: (e) => { s.reminder = e.target.checked ? { zh: "", en: "" } : null; renderEditor(); } }),
    h("span", {}, m("svc.has_reminder"))));
  if (on) box.append(textField("", s, "reminder"));
  return box;
}

function addService() {
  const c = state.config;
  const used = new Set(c.services.map((s) => s.prefix));
  const prefix = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZ"].find((p) => !used.has(p)) ?? "Z";
  let n = c.services.length + 1;
  while (c.services.some((s) => s.id === `service${n}`)) n++;
  const id = `service${n}`;
  c.services.push({ id, prefix, name: { zh: "", en: "" }, documents: [], steps: [], fees: [], reminder: null, weight: 1, enabled: true, usual_minutes: null });
  state.openService = id;
  renderEditor();
}

function editCounters(c) {
  return h("div", { class: "mg-counters" },
    h("table", { class: "mg-table" },
      h("thead", {}, h("tr", {}, h("th", {}, m("ctr.id")), h("th", {}, m("ctr.name")), h("th", {}, m("ctr.name_en")), h("th", {}, m("ctr.services")), h("th", {}))),
      h("tbody", {}, c.counters.map((k, i) => h("tr", { dataset: { counter: k.id } },
        h("td", {}, h("input", { type: "number", class: "mg-num", min: 1, max: 999, value: k.id, oninput: (e) => { k.id = Number(e.target.value); changed(); } })),
        h("td", {}, h("input", { value: k.name.zh, oninput: (e) => { k.name.zh = e.target.value; changed(); } })),
        h("td", {}, h("input", { value: k.name.en, oninput: (e) => { k.name.en = e.target.value; changed(); } })),
        h("td", { class: "mg-svc-checks" }, c.services.map((s) => h("label", { class: "mg-chip", title: text(s.name) },
          h("input", { type: "checkbox", checked: k.services.includes(s.id), onchange: (e) => {
            if (e.target.checked) k.services.push(s.id);
            else k.services = k.services.filter((x) => x !== s.id);
            changed();
          } }),
          `${s.prefix} ${text(s.name)}`))),
        h("td", {}, removeButton(() => { c.counters.splice(i, 1); renderEditor(); })))))),
    h("button", { type: "button", class: "btn mg-add", onclick: () => {
      const id = Math.max(0, ...c.counters.map((k) => k.id)) + 1;
      c.counters.push({ id, name: { zh: `${id}号窗口`, en: `Counter ${id}` }, services: [] });
      renderEditor();
    } }, m("ctr.add")),
    h("p", { class: "hint" }, m("ctr.hint")));
}

// ---------------------------------------------------------------------------------------------
// Accounts and devices

async function loadAccounts() {
  showDeviceCounter();
  try {
    const [{ data: accounts }, { data: devices }] = await Promise.all([
      api("GET", "/api/v1/accounts"), api("GET", "/api/v1/devices"),
    ]);
    const me = session()?.login;
    $("accounts-table").replaceChildren(
      h("thead", {}, h("tr", {}, h("th", {}, m("acc.login")), h("th", {}, m("acc.role")), h("th", {}, m("acc.state")), h("th", {}))),
      h("tbody", {}, accounts.map((a) => h("tr", { class: a.disabled ? "mg-dim" : "" },
        h("td", {}, a.login), h("td", {}, m(`role.${a.role}`)), h("td", {}, a.disabled ? m("acc.disabled") : m("acc.active")),
        h("td", {}, a.disabled || a.login === me ? "" : h("button", { type: "button", class: "btn mg-small", onclick: () => disableAccount(a.login) }, m("acc.disable")))))));
    $("devices-table").replaceChildren(
      h("thead", {}, h("tr", {}, h("th", {}, m("dev.name")), h("th", {}, m("dev.role")), h("th", {}, m("acc.state")), h("th", {}))),
      h("tbody", {}, devices.map((d) => h("tr", { class: d.revoked ? "mg-dim" : "" },
        h("td", {}, d.name),
        h("td", {}, m(`role.${d.role}`), d.counter ? ` · ${m("dev.counter_n", { n: d.counter })}` : ""),
        h("td", {}, d.revoked ? m("dev.revoked") : m("acc.active")),
        h("td", {}, d.revoked ? "" : h("button", { type: "button", class: "btn mg-small", onclick: () => revokeDevice(d.name) }, m("dev.revoke")))))));
  } catch (err) {
    flash(err.message, "error");
  }
}

async function addAccount(e) {
  e.preventDefault();
  const login = $("acc-login").value.trim();
  const password = $("acc-password").value;
  if (password.length < 8) {
    flash(m("acc.short_password"), "error");
    return;
  }
  try {
    await api("POST", "/api/v1/accounts", { login, role: $("acc-role").value, password });
    $("acc-login").value = "";
    $("acc-password").value = "";
    flash(m("acc.saved", { login }), "ok");
    loadAccounts();
  } catch (err) {
    flash(err.message, "error");
  }
}

async function disableAccount(login) {
  if (!confirm(m("acc.confirm_disable", { login }))) return;
  try {
    await api("POST", `/api/v1/accounts/${encodeURIComponent(login)}/disable`);
    flash(m("acc.disabled_ok", { login }), "ok");
    loadAccounts();
  } catch (err) {
    flash(err.message, "error");
  }
}

/** A rating tablet is bound to one counter: the counter list shows only for it. */
function showDeviceCounter() {
  const tablet = $("dev-role").value === "tablet";
  $("dev-counter-label").hidden = !tablet;
  const sel = $("dev-counter");
  const counters = state.config?.counters ?? state.board?.counters ?? [];
  const chosen = sel.value;
  sel.replaceChildren(...counters.map((c) => h("option", { value: c.id }, m("dev.counter_n", { n: c.id }))));
  if (chosen) sel.value = chosen;
}

async function addDevice(e) {
  e.preventDefault();
  const name = $("dev-name").value.trim();
  const role = $("dev-role").value;
  const body = { name, role };
  if (role === "tablet") body.counter = Number($("dev-counter").value);
  try {
    const { data } = await api("POST", "/api/v1/devices", body);
    $("dev-name").value = "";
    const box = $("dev-token");
    box.replaceChildren(h("div", {}, m("dev.token_once", { name: data.name })), h("code", { id: "dev-token-value" }, data.token));
    if (data.role === "tablet") {
      // The token travels after `#`, which browsers never send to a server; the tablet drops it from its address bar.
      const link = `${location.origin}/rate/${data.counter}#pair=${data.token}`;
      box.append(h("div", { class: "mg-pair" }, m("dev.pair_link")), h("code", { id: "dev-pair-link" }, h("a", { href: link, target: "_blank", rel: "noopener" }, link)));
    }
    box.hidden = false;
    loadAccounts();
  } catch (err) {
    flash(err.message, "error");
  }
}

async function revokeDevice(name) {
  if (!confirm(m("dev.confirm_revoke", { name }))) return;
  try {
    await api("POST", `/api/v1/devices/${encodeURIComponent(name)}/revoke`);
    flash(m("dev.revoked_ok", { name }), "ok");
    loadAccounts();
  } catch (err) {
    flash(err.message, "error");
  }
}

// ---------------------------------------------------------------------------------------------
// Reports

function reportQuery() {
  const period = $("rep-period").value;
  const date = $("rep-date").value || localDate();
  return `period=${period}&date=${date}`;
}

async function loadReport() {
  try {
    const { data } = await api("GET", `/api/v1/reports?${reportQuery()}`);
    state.report = data;
    renderReport();
  } catch (err) {
    flash(err.message, "error");
  }
}

async function downloadCsv() {
  // The token travels in a header, so the file is fetched here and handed to the browser.
  try {
    const res = await fetch(`/api/v1/reports?${reportQuery()}&format=csv`, {
      headers: { Authorization: `Bearer ${session()?.token}` },
    });
    if (!res.ok) throw new Error(m("err.csv", { status: res.status }));
    const blob = await res.blob();
    const name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") ?? "")?.[1] ?? "report.csv";
    const a = h("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (err) {
    flash(err.message, "error");
  }
}

const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);
const mins = (s) => (s === null || s === undefined ? "—" : (s / 60).toFixed(1));
const num = (x, d = 2) => (x === null || x === undefined ? "—" : Number(x).toFixed(d));

function label(row) {
  return lang() === "en" ? row.label_en || row.label_zh : row.label_zh || row.label_en;
}

function renderReport() {
  const r = state.report;
  if (!r) return;
  const t = r.totals;
  $("rep-meta").textContent = m("rep.range", { from: r.period.from, to: r.period.to, days: r.business_days });
  const tile = (key, value, sub) => h("div", { class: "mg-tile", dataset: { metric: key } },
    h("div", { class: "mg-tile-v" }, value), h("div", { class: "mg-tile-l" }, m(`rep.t.${key}`)), sub ? h("div", { class: "mg-tile-s" }, sub) : null);
  const tiles = h("div", { class: "mg-tiles" },
    tile("issued", t.issued),
    tile("served", t.served),
    tile("no_shows", t.no_shows),
    tile("transfers", t.transfers),
    tile("wait_mean", mins(t.wait.mean_s), m("rep.median_p90", { median: mins(t.wait.median_s), p90: mins(t.wait.p90_s) })),
    tile("within", pct(t.within_target), m("rep.within_sub", { n: r.target_wait_min })),
    tile("service_mean", mins(t.service_time.mean_s), m("rep.long_services", { n: t.long_services })),
    tile("satisfaction", pct(t.satisfaction.satisfied_share), m("rep.rated", { n: t.satisfaction.rated, mean: num(t.satisfaction.mean) })));

  const hourSvg = drawHourChart(r.by_hour, { target: r.target_wait_min, labels: { mean: m("rep.c.mean"), p90: m("rep.c.p90"), target: m("rep.c.target", { n: r.target_wait_min }), empty: m("rep.empty"), minutes: m("rep.c.minutes") } });
  hourSvg.id = "chart-hours";
  const loadSvg = drawBarChart(r.load_by_service.map((l) => ({ label: lang() === "en" ? l.label_en : l.label_zh, value: l.issued, value2: l.served })), { labels: { a: m("rep.t.issued"), b: m("rep.t.served"), empty: m("rep.empty") } });
  loadSvg.id = "chart-load";

  const inc = r.incidents;
  const cb = r.callbacks;
  const est = r.estimate;
  const ot = r.open_times;
  const sat = t.satisfaction;
  $("report").replaceChildren(
    tiles,
    h("div", { class: "mg-charts" },
      h("div", { class: "card mg-chart" }, h("h2", {}, m("rep.c.hours")), hourSvg),
      h("div", { class: "card mg-chart" }, h("h2", {}, m("rep.c.load")), loadSvg)),
    statsTable("by_service", r.by_service, r),
    statsTable("by_counter", r.by_counter, r),
    statsTable("by_clerk", r.by_clerk, r),
    staffingTable(r),
    h("div", { class: "mg-facts" },
      h("div", { class: "card" }, h("h2", {}, m("rep.incidents")),
        fact("inc.long_waits", `${inc.long_waits} (${mins(inc.long_wait_total_s)} ${m("rep.min_unit")})`),
        fact("inc.long_services", inc.long_services), fact("inc.outages", inc.outages),
        fact("inc.outage_time", `${mins(inc.outage_total_s)} ${m("rep.min_unit")}`),
        fact("inc.outage_longest", `${mins(inc.outage_longest_s)} ${m("rep.min_unit")}`),
        fact("inc.slow_systems", `${inc.slow_systems ?? 0} (${mins(inc.slow_system_total_s ?? 0)} ${m("rep.min_unit")})`)),
      h("div", { class: "card" }, h("h2", {}, m("rep.callbacks")),
        fact("cb.captured", cb.captured), fact("cb.resolved", cb.resolved), fact("cb.open", cb.open),
        fact("cb.delay", `${mins(cb.resolve_delay.mean_s)} / ${mins(cb.resolve_delay.p90_s)} ${m("rep.min_unit")}`)),
      h("div", { class: "card" }, h("h2", {}, m("rep.estimate")),
        fact("est.count", est.count), fact("est.mean", `${mins(est.mean_error_s)} ${m("rep.min_unit")}`), fact("est.abs", `${mins(est.mean_abs_error_s)} ${m("rep.min_unit")}`),
        fact("est.rmse", `${mins(est.rmse_s)} ${m("rep.min_unit")}`), fact("est.late", pct(est.late_share))),
      h("div", { class: "card" }, h("h2", {}, m("rep.open_times", { opening: r.opening })),
        fact("ot.days", ot.counter_days), fact("ot.in_place", ot.in_place), fact("ot.by_opening", ot.opened_by_opening), fact("ot.late", ot.late)),
      h("div", { class: "card" }, h("h2", {}, m("rep.satisfaction")),
        r.satisfaction_levels.map((lv) => fact(null, sat.counts?.[String(lv.score)] ?? 0, lang() === "en" ? lv.en : lv.zh)),
        fact("sat.response", pct(sat.response_rate)))),
  );
}

/**
 * Hour by hour: counters open against the fewest that would have called 85 % within the target
 * (Erlang C on the hour's arrivals and mean service time); hours short of counters are marked.
 */
function staffingTable(r) {
  const rows = r.staffing_by_hour ?? [];
  const cols = [
    ["arrivals", (x) => num(x.arrivals_per_hour, 1)],
    ["service", (x) => mins(x.mean_service_s)],
    ["open", (x) => num(x.counters_open, 1)],
    ["needed", (x) => x.counters_needed ?? "—"],
    ["state", (x) => (x.short ? m("rep.sf.short") : m("rep.sf.ok"))],
  ];
  return h("div", { class: "card mg-stats" },
    h("h2", {}, m("rep.staffing", { n: r.target_wait_min })),
    h("table", { class: "mg-table mg-num-table", id: "table-staffing" },
      h("thead", {}, h("tr", {}, h("th", {}, m("rep.sf.hour")), cols.map(([k]) => h("th", { class: "num" }, m(`rep.sf.${k}`))))),
      h("tbody", {}, rows.length
        ? rows.map((x) => h("tr", { class: x.short ? "mg-long" : "", dataset: { key: x.key } }, h("th", {}, x.label),
          cols.map(([k, f]) => h("td", { class: "num", dataset: { col: k } }, f(x)))))
        : h("tr", {}, h("td", { colspan: cols.length + 1, class: "hint" }, m("rep.empty"))))),
    h("p", { class: "hint" }, m("rep.sf.hint", { n: r.target_wait_min })));
}

function fact(key, value, labelText) {
  return h("div", { class: "mg-fact" }, h("span", {}, labelText ?? m(`rep.${key}`)), h("b", {}, value));
}

function statsTable(kind, rows, r) {
  const cols = [
    ["issued", (s) => s.issued], ["served", (s) => s.served], ["no_shows", (s) => s.no_shows], ["transfers", (s) => s.transfers],
    ["wait_mean", (s) => mins(s.wait.mean_s)], ["wait_median", (s) => mins(s.wait.median_s)], ["wait_p90", (s) => mins(s.wait.p90_s)],
    ["within", (s) => pct(s.within_target)], ["service_mean", (s) => mins(s.service_time.mean_s)], ["long_services", (s) => s.long_services],
    ["rated", (s) => s.satisfaction.rated], ["satisfied", (s) => pct(s.satisfaction.satisfied_share)],
  ];
  return h("div", { class: "card mg-stats" },
    h("h2", {}, m(`rep.${kind}`, { n: r.target_wait_min })),
    h("table", { class: "mg-table mg-num-table", id: `table-${kind}` },
      h("thead", {}, h("tr", {}, h("th", {}, ""), cols.map(([k]) => h("th", { class: "num" }, m(`rep.col.${k}`, { n: r.target_wait_min }))))),
      h("tbody", {}, rows.length
        ? rows.map((row) => h("tr", { dataset: { key: row.key } }, h("th", {}, label(row)), cols.map(([k, f]) => h("td", { class: "num", dataset: { col: k } }, f(row.stats ?? row)))))
        : h("tr", {}, h("td", { colspan: cols.length + 1, class: "hint" }, m("rep.empty"))))));
}

// ---------------------------------------------------------------------------------------------
// Audit

async function loadAudit() {
  try {
    const { data } = await api("GET", "/api/v1/audit?limit=300");
    $("audit-table").replaceChildren(
      h("thead", {}, h("tr", {}, h("th", {}, m("audit.at")), h("th", {}, m("audit.actor")), h("th", {}, m("audit.action")), h("th", {}, m("audit.detail")))),
      h("tbody", {}, data.map((row) => h("tr", {},
        h("td", { class: "mg-nowrap" }, clockTime(row.at)), h("td", {}, row.actor),
        h("td", {}, M[`act.${row.action}`] ? m(`act.${row.action}`) : row.action),
        h("td", {}, auditDetail(row))))));
  } catch (err) {
    flash(err.message, "error");
  }
}

function auditDetail(row) {
  const d = row.detail ?? {};
  if (row.action === "config_replaced") {
    const sections = (d.changed ?? []).map((k) => M[`cfg.${k}`] ? m(`cfg.${k}`) : k).join("、") || m("audit.nochange");
    return h("details", {}, h("summary", {}, sections),
      h("div", { class: "mg-diff" },
        h("div", {}, h("b", {}, m("audit.before")), h("pre", {}, JSON.stringify(d.before, null, 1))),
        h("div", {}, h("b", {}, m("audit.after")), h("pre", {}, JSON.stringify(d.after, null, 1)))));
  }
  return h("code", { class: "mg-detail" }, JSON.stringify(d));
}

start();
