// The todo page: tasks are loaded once over REST, then searched, filtered, sorted and paged in the
// browser by the core's query engine compiled to WebAssembly (pkg/todo_wasm_query.js, small),
// kept current by the WebSocket's task events (docs/realtime.md). Inputs are checked before they
// are sent, with the server's field errors, by the full module (pkg/todo_wasm.js: validation and
// recurrence need the time zone database), loaded in the background after sign-in.
import init, { TaskSet } from "./pkg/todo_wasm_query.js";

let fullModule = null;
async function full() {
  if (!fullModule) {
    fullModule = import("./pkg/todo_wasm.js").then(async (m) => { await m.default(); return m; });
  }
  return fullModule;
}

const $ = (id) => document.getElementById(id);
const API = "/api/v1";
const state = { user: "", token: "", set: null, tags: [], offset: 0, editing: null, ws: null, lastEvent: null, wsRetry: 0, closed: false };
window.todoPage = state; // for the browser test and the curious

function notice(text) {
  $("notice").textContent = text;
  clearTimeout(notice.t);
  notice.t = setTimeout(() => ($("notice").textContent = ""), 5000);
}

async function api(method, path, body) {
  const res = await fetch(`${API}/${encodeURIComponent(state.user)}${path}`, {
    method,
    headers: { authorization: `Bearer ${state.token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = new Error(data?.error?.message ?? `${res.status} ${res.statusText}`);
    e.status = res.status;
    e.errors = data?.error?.details ?? [];
    throw e;
  }
  return data;
}

// ---- sign in
async function signIn(user, token) {
  state.user = user.trim();
  state.token = token.trim();
  try {
    await loadAll();
  } catch (e) {
    $("sign-in-error").textContent = e.status === 401 || e.status === 403 ? "The token was refused for this user." : e.message;
    return;
  }
  sessionStorage.setItem("todo-session", JSON.stringify({ user: state.user, token: state.token }));
  $("sign-in").hidden = true;
  $("app").hidden = false;
  $("who").hidden = false;
  $("who-user").textContent = `Signed in as ${state.user}`;
  state.closed = false;
  connect();
  full().catch((e) => notice(`validation module: ${e.message}`));
  $("f-search").focus();
}

$("sign-in-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  $("sign-in-error").textContent = "";
  signIn($("user-id").value, $("token").value);
});

$("dev-token").addEventListener("click", async () => {
  const user = $("user-id").value.trim();
  const res = await fetch(`/dev/token?user_id=${encodeURIComponent(user)}`, { method: "POST" });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    $("sign-in-error").textContent = res.status === 404
      ? "Dev tokens are only given by a server in its embedded default (a generated secret) started with TODO_DEV_TOKEN=on, to this machine. Paste a token from `todo-server token --user <id>` instead."
      : data?.error?.message ?? `${res.status}`;
    return;
  }
  $("token").value = data.token;
  signIn(user, data.token);
});

$("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem("todo-session");
  state.closed = true;
  state.ws?.close();
  location.reload();
});

// ---- loading
async function loadAll() {
  const tasks = [];
  for (let offset = 0; ; offset += 100) {
    const page = await api("GET", `/tasks?limit=100&offset=${offset}&sort_by=created_at&sort_order=asc`);
    tasks.push(...page.tasks);
    if (tasks.length >= page.total || page.tasks.length === 0) break;
  }
  state.tags = await api("GET", "/tags").then((t) => (Array.isArray(t) ? t : t.tags ?? []));
  state.set?.free();
  state.set = new TaskSet(tasks);
  renderTags();
  render();
}

// ---- filtering: every change runs the query in the module
function params() {
  const f = $("filters");
  const p = new URLSearchParams();
  const search = f.search.value.trim();
  if (search) p.append("search", search);
  if (f.status.value !== "all") p.append("status", f.status.value);
  const prio = [...f.querySelectorAll("input[name=priority]:checked")].map((c) => c.value);
  if (prio.length) p.append("priority", prio.join(","));
  const tags = [...$("f-tags").selectedOptions].map((o) => o.value);
  if (tags.length) { p.append("tags", tags.join(",")); p.append("tags_mode", f.tags_mode.value); }
  // Dates are whole days in the browser's zone.
  if (f.due_date_start.value) p.append("due_date_start", new Date(`${f.due_date_start.value}T00:00:00`).toISOString());
  if (f.due_date_end.value) p.append("due_date_end", new Date(`${f.due_date_end.value}T23:59:59.999`).toISOString());
  p.append("sort_by", f.sort_by.value);
  p.append("sort_order", f.sort_order.value);
  p.append("limit", f.limit.value);
  p.append("offset", String(state.offset));
  return p;
}

$("filters").addEventListener("input", () => { state.offset = 0; render(); });
$("filters").addEventListener("submit", (ev) => ev.preventDefault());
$("prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - Number($("f-limit").value)); render(); });
$("next").addEventListener("click", () => { state.offset += Number($("f-limit").value); render(); });

function fmt(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function render() {
  if (!state.set) return;
  let page;
  const t0 = performance.now();
  try {
    page = state.set.query(params());
    $("filter-error").textContent = "";
  } catch (e) {
    $("filter-error").textContent = `${e.field}: ${e.message}`;
    return;
  }
  state.lastQueryMs = performance.now() - t0;
  const list = $("list");
  list.replaceChildren(...page.items.map(taskItem));
  $("count").textContent = `(${page.total} found)`;
  const last = Math.min(page.offset + page.limit, page.total);
  $("page-info").textContent = page.total ? `${page.offset + 1}-${last} of ${page.total}` : "none";
  $("prev").disabled = page.offset === 0;
  $("next").disabled = last >= page.total;
}

function taskItem(t) {
  const li = el("li", { className: t.completed ? "done" : "" });
  li.dataset.id = t.id;
  const done = el("input", { type: "checkbox", checked: t.completed, id: `done-${t.id}` });
  done.setAttribute("aria-label", `Completed: ${t.title}`);
  done.addEventListener("change", () => setCompleted(t, done.checked));
  const meta = el("div", { className: "meta" },
    el("span", { className: `badge ${t.priority}`, textContent: t.priority }));
  if (t.due_datetime) meta.append(el("span", { textContent: `due ${fmt(t.due_datetime)}` }));
  if (t.rrule || t.recurrence_pattern !== "none") meta.append(el("span", { textContent: `repeats ${t.rrule ?? t.recurrence_pattern}` }));
  if (t.reminder) meta.append(el("span", { textContent: `reminder ${fmt(t.reminder.reminder_time)}` }));
  for (const g of t.tags ?? []) {
    const s = el("span", { className: "tag", textContent: g.name });
    s.style.setProperty("--c", g.color);
    meta.append(s);
  }
  const body = el("div", {}, el("div", { className: "title", textContent: t.title }),
    t.description ? el("div", { className: "help", textContent: t.description }) : null, meta);
  const edit = el("button", { type: "button", textContent: "Edit" });
  edit.setAttribute("aria-label", `Edit ${t.title}`);
  edit.addEventListener("click", () => openTask(t));
  const del = el("button", { type: "button", textContent: "Delete" });
  del.setAttribute("aria-label", `Delete ${t.title}`);
  del.addEventListener("click", () => removeTask(t));
  li.append(done, body, el("div", { className: "actions" }, edit, del));
  return li;
}

async function refreshTask(id) {
  try {
    state.set.upsert(await api("GET", `/tasks/${id}`));
  } catch (e) {
    if (e.status === 404) state.set.remove(id); else throw e;
  }
}

async function setCompleted(t, completed) {
  try {
    if (completed) {
      const out = await api("PATCH", `/tasks/${t.id}/complete`);
      const done = out?.task ?? out;
      if (done?.id) state.set.upsert(done);
      if (out?.next_task?.id) state.set.upsert(out.next_task);
      await refreshTask(t.id);
    } else {
      state.set.upsert(await api("PUT", `/tasks/${t.id}`, { completed: false }));
    }
  } catch (e) { notice(e.message); }
  render();
}

async function removeTask(t) {
  if (!confirm(`Delete "${t.title}"?`)) return;
  try { await api("DELETE", `/tasks/${t.id}`); } catch (e) { if (e.status !== 404) { notice(e.message); return; } }
  state.set.remove(t.id);
  render();
  notice(`Deleted "${t.title}"`);
}

// ---- tags
function renderTags() {
  $("tag-list").replaceChildren(...state.tags.map((g) => {
    const del = el("button", { type: "button", textContent: "×" });
    del.setAttribute("aria-label", `Delete tag ${g.name}`);
    del.addEventListener("click", async () => {
      try { await api("DELETE", `/tags/${g.id}`); } catch (e) { if (e.status !== 404) return notice(e.message); }
      await loadAll();
    });
    const s = el("span", { className: "tag", textContent: g.name });
    s.style.setProperty("--c", g.color);
    return el("li", {}, s, " ", del);
  }));
  const selected = new Set([...$("f-tags").selectedOptions].map((o) => o.value));
  $("f-tags").replaceChildren(...state.tags.map((g) => el("option", { value: String(g.id), textContent: g.name, selected: selected.has(String(g.id)) })));
}

$("tag-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = { name: $("tag-name").value, color: $("tag-color").value };
  try {
    (await full()).validate("tag_create", body);
    await api("POST", "/tags", body);
    $("tag-name").value = "";
    $("tag-error").textContent = "";
    await loadAll();
  } catch (e) { $("tag-error").textContent = e.message; }
});

// ---- the task dialog
const localInput = (iso) => {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};
const fromLocal = (v) => (v ? new Date(v).toISOString() : null);

function openTask(t) {
  state.editing = t ?? null;
  const f = $("task-form");
  f.reset();
  clearFieldErrors();
  $("task-dialog-h").textContent = t ? "Edit task" : "New task";
  f.title.value = t?.title ?? "";
  f.description.value = t?.description ?? "";
  f.priority.value = t?.priority ?? "Medium";
  f.due_datetime.value = localInput(t?.due_datetime);
  f.timezone.value = t?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
  f.recurrence_pattern.value = t?.rrule ? "rrule" : t?.recurrence_pattern ?? "none";
  f.rrule.value = t?.rrule ?? "";
  f.recurrence_end_date.value = localInput(t?.recurrence_end_date);
  f.reminder_time.value = localInput(t?.reminder?.reminder_time);
  const mine = new Set((t?.tags ?? []).map((g) => g.id));
  $("t-tags").replaceChildren(el("legend", { textContent: "Tags" }), ...state.tags.map((g) =>
    el("label", {}, el("input", { type: "checkbox", name: "tag_ids", value: String(g.id), checked: mine.has(g.id) }), ` ${g.name}`)));
  preview();
  $("task-dialog").showModal();
  f.title.focus();
}

function body() {
  const f = $("task-form");
  const rule = f.recurrence_pattern.value === "rrule";
  return {
    title: f.title.value,
    description: f.description.value.trim() ? f.description.value : null,
    priority: f.priority.value,
    due_datetime: fromLocal(f.due_datetime.value),
    timezone: f.timezone.value.trim() || "UTC",
    recurrence_pattern: rule ? "none" : f.recurrence_pattern.value,
    rrule: rule ? f.rrule.value : null,
    recurrence_end_date: fromLocal(f.recurrence_end_date.value),
    tag_ids: [...f.querySelectorAll("input[name=tag_ids]:checked")].map((c) => Number(c.value)),
  };
}

function clearFieldErrors() {
  for (const p of $("task-form").querySelectorAll(".error")) p.textContent = "";
  for (const i of $("task-form").querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
}

function showFieldErrors(errors, fallback) {
  let first = null;
  for (const e of errors) {
    const out = $(`t-${e.field}-err`);
    const input = $("task-form").elements[e.field];
    if (out) out.textContent = e.message; else $("task-error").textContent = `${e.field}: ${e.message}`;
    if (input?.setAttribute) { input.setAttribute("aria-invalid", "true"); first ??= input; }
  }
  if (!errors.length) $("task-error").textContent = fallback;
  first?.focus();
}

async function preview() {
  const b = body();
  const list = $("t-preview");
  list.replaceChildren();
  if (!b.due_datetime || (b.recurrence_pattern === "none" && !b.rrule)) return;
  const { nextOccurrences } = await full();
  try {
    const dates = nextOccurrences(b, new Date().toISOString(), 5);
    list.replaceChildren(...dates.map((d) => el("li", { textContent: fmt(d) })));
  } catch (e) {
    list.replaceChildren(el("li", { textContent: `${e.field}: ${e.message}` }));
  }
}
$("task-form").addEventListener("input", preview);
$("task-cancel").addEventListener("click", () => $("task-dialog").close());
$("new-task").addEventListener("click", () => openTask(null));

$("task-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  clearFieldErrors();
  const b = body();
  const f = $("task-form");
  const t = state.editing;
  const reminder = fromLocal(f.reminder_time.value);
  try {
    const { validate } = await full();
    // The module checks what the server will check, so most mistakes never leave the page.
    if (t) {
      const patch = { ...b };
      if (patch.due_datetime === null && (patch.recurrence_pattern !== "none" || patch.rrule)) delete patch.due_datetime;
      validate("task_update", patch);
      if (reminder) validate("reminder", { reminder_time: reminder, reminder_type: "custom" });
      const saved = await api("PUT", `/tasks/${t.id}`, patch);
      state.set.upsert(saved);
    } else {
      if (b.rrule === null) delete b.rrule;
      validate("task_create", b);
      if (reminder) validate("reminder", { reminder_time: reminder, reminder_type: "custom" });
      const saved = await api("POST", "/tasks", b);
      state.set.upsert(saved);
      state.editing = saved;
    }
    const id = state.editing.id;
    if (reminder && reminder !== t?.reminder?.reminder_time) {
      await api("POST", `/tasks/${id}/reminder`, { reminder_time: reminder, reminder_type: "custom" });
    } else if (!reminder && t?.reminder) {
      await api("DELETE", `/tasks/${id}/reminder`);
    }
    await refreshTask(id);
    $("task-dialog").close();
    render();
    notice("Saved");
  } catch (e) {
    showFieldErrors(e.errors ?? [], e.message);
    if (e.status && state.editing?.id) { await refreshTask(state.editing.id).catch(() => {}); render(); }
  }
});

// ---- live updates (docs/realtime.md)
function connect() {
  if (state.closed) return;
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const since = state.lastEvent ? `&since=${encodeURIComponent(state.lastEvent)}` : "";
  const ws = new WebSocket(`${proto}://${location.host}${API}/ws/${encodeURIComponent(state.user)}?token=${encodeURIComponent(state.token)}${since}`);
  state.ws = ws;
  ws.addEventListener("open", () => {
    state.wsRetry = 0;
    ws.send(JSON.stringify({ action: "subscribe", channels: ["task-updates", "reminders"] }));
  });
  ws.addEventListener("message", (m) => onEvent(JSON.parse(m.data)).catch((e) => notice(e.message)));
  ws.addEventListener("close", () => {
    state.live = false;
    if (state.closed) return;
    const wait = Math.min(30000, 500 * 2 ** state.wsRetry++);
    setTimeout(connect, wait);
  });
}

async function onEvent(msg) {
  if (msg.event_id) state.lastEvent = msg.event_id;
  switch (msg.event_type) {
    case "subscribed": state.live = true; break;
    case "resync": await loadAll(); break;
    case "task-deleted": state.set.remove(msg.data.task_id); render(); break;
    case "task-created": case "task-updated": case "task-completed":
      await refreshTask(msg.data.task_id); render(); break;
    case "reminder": notice(`Reminder: ${msg.data.task_title}`); break;
    default: break;
  }
}

// ---- start
await init();
const saved = JSON.parse(sessionStorage.getItem("todo-session") ?? "null");
if (saved?.user && saved?.token) {
  $("user-id").value = saved.user;
  $("token").value = saved.token;
  signIn(saved.user, saved.token);
}
