// End-to-end test of the page against the real server (started by scripts/browser-test.sh):
// sign in with a pasted token, create tags and tasks through the form, filter them in the browser
// through the WebAssembly module (no request to the server while filtering), see changes made
// through the API arrive live over the WebSocket, check the form's validation and the page's
// accessibility basics, and save screenshots (desktop and phone).
// Environment: BASE_URL, TODO_USER, TODO_TOKEN, OUT_DIR.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { launch } from "./chromium.mjs";

const base = process.env.BASE_URL;
const user = process.env.TODO_USER ?? "alice";
const token = process.env.TODO_TOKEN;
const out = process.env.OUT_DIR ?? "target/browser-test";
assert.ok(base && token, "BASE_URL and TODO_TOKEN are required");
mkdirSync(out, { recursive: true });

async function api(method, path, body) {
  const res = await fetch(`${base}/api/v1/${user}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const step = (s) => console.log(`browser-test: ${s}`);
const { context, close } = await launch();
let failed = false;
try {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // Failed requests are judged by their URL below, not by the console's line about them.
  page.on("console", (m) => { if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text()); });
  page.on("response", (r) => {
    // A task event can arrive after the task was deleted: its GET answers 404, and the page drops it.
    const expected = r.status() === 404 && ((r.request().method() === "GET" && /\/tasks\/\d+$/.test(r.url())) ||
      /\/dev\/token/.test(r.url())); // not offered by this server

    if (r.status() >= 400 && !expected) errors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  await page.setViewportSize({ width: 1100, height: 900 });

  step("the dev-token button: a token where the server offers it, an explanation elsewhere");
  await page.goto(`${base}/`);
  const offered = (await fetch(`${base}/dev/token?user_id=${user}`, { method: "POST" })).ok;
  await page.getByLabel("User id").fill(user);
  await page.getByRole("button", { name: "Get a dev token" }).click();
  if (offered) {
    await page.locator("#app").waitFor({ state: "visible" });
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.locator("#sign-in").waitFor({ state: "visible" });
  } else {
    await page.locator("#sign-in-error").filter({ hasText: "embedded default" }).waitFor();
  }

  step("sign in with a pasted token");
  await page.getByLabel("User id").fill(user);
  await page.getByLabel("Token (JWT)").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#app").waitFor({ state: "visible" });
  await page.waitForFunction(() => window.todoPage.live === true, null, { timeout: 10000 });

  step("create a tag and tasks through the form");
  await page.getByLabel("Name", { exact: true }).fill("home");
  await page.getByRole("button", { name: "Add tag" }).click();
  await page.locator("#tag-list li", { hasText: "home" }).waitFor();
  const due = (days) => {
    const d = new Date(Date.now() + days * 86400000);
    d.setSeconds(0, 0);
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  };
  const tasks = [
    { title: "Pay rent", priority: "High", due: due(3), repeats: "monthly", tag: true, reminder: due(2) },
    { title: "Buy milk", priority: "Low", due: due(1), repeats: "none" },
    { title: "Rent a car for the trip", priority: "Medium", due: due(10), repeats: "none", tag: true },
    { title: "Water the plants", priority: "Low", due: "", repeats: "weekly-rrule" },
  ];
  for (const t of tasks) {
    await page.getByRole("button", { name: "New task" }).click();
    const dialog = page.locator("#task-dialog");
    await dialog.getByLabel("Title").fill(t.title);
    await dialog.getByLabel("Priority").selectOption(t.priority);
    if (t.due) await dialog.getByLabel("Due", { exact: true }).fill(t.due);
    if (t.repeats === "weekly-rrule") {
      await dialog.getByLabel("Due", { exact: true }).fill(due(5));
      await dialog.getByLabel("Repeats").selectOption("rrule");
      await dialog.getByLabel("RRULE").fill("FREQ=WEEKLY;BYDAY=MO,TH");
    } else {
      await dialog.getByLabel("Repeats").selectOption(t.repeats);
    }
    if (t.reminder) await dialog.getByLabel("Reminder").fill(t.reminder);
    if (t.tag) await dialog.getByLabel("home").check();
    if (t.repeats !== "none") await dialog.locator("#t-preview li").first().waitFor();
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.locator("#list li", { hasText: t.title }).waitFor();
  }
  const preview = await api("GET", "/tasks?search=pay");
  assert.equal(preview.total, 1);
  assert.equal(preview.tasks[0].recurrence_pattern, "monthly");
  assert.equal(preview.tasks[0].tags[0].name, "home");
  assert.ok(preview.tasks[0].reminder, "the reminder was set");

  step("validation in the page: a blank title never reaches the server");
  let posted = 0;
  const countPosts = (r) => { if (r.method() === "POST" && r.url().includes("/tasks")) posted++; };
  page.on("request", countPosts);
  await page.getByRole("button", { name: "New task" }).click();
  await page.locator("#task-dialog").getByLabel("Title").fill("   ");
  await page.locator("#task-dialog").getByRole("button", { name: "Save" }).click();
  await page.locator("#t-title-err").filter({ hasText: /title/ }).waitFor();
  assert.equal(await page.locator("#t-title").getAttribute("aria-invalid"), "true");
  await page.keyboard.press("Escape");
  assert.equal(posted, 0);
  page.off("request", countPosts);

  step("filter, search and sort in the browser through the module");
  const requests = [];
  const onRequest = (r) => requests.push(r.url());
  page.on("request", onRequest);
  const titles = () => page.locator("#list li .title").allTextContents();
  await page.getByLabel("Search").fill("RENT");
  await page.waitForFunction(() => document.querySelectorAll("#list li").length === 2);
  await page.getByLabel("Sort by").selectOption("title");
  await page.getByLabel("Order").selectOption("asc");
  assert.deepEqual(await titles(), ["Pay rent", "Rent a car for the trip"]);
  await page.getByLabel("Search").fill("");
  await page.getByLabel("High").check();
  await page.getByLabel("Low").check();
  await page.getByLabel("Sort by").selectOption("priority");
  await page.getByLabel("Order").selectOption("desc");
  // Ties (both Low) go by id in the same direction: the later task first.
  assert.deepEqual(await titles(), ["Pay rent", "Water the plants", "Buy milk"]);
  await page.getByLabel("High").uncheck();
  await page.getByLabel("Low").uncheck();
  await page.getByLabel("With tags").selectOption({ label: "home" });
  await page.getByLabel("Sort by").selectOption("due_datetime");
  await page.getByLabel("Order").selectOption("asc");
  assert.deepEqual(await titles(), ["Pay rent", "Rent a car for the trip"]);
  await page.getByLabel("With tags").selectOption([]);
  await page.getByLabel("Search").fill("x".repeat(300));
  await page.locator("#filter-error").filter({ hasText: "search" }).waitFor();
  await page.getByLabel("Search").fill("");
  page.off("request", onRequest);
  assert.deepEqual(requests.filter((u) => u.includes("/api/")), [], "filtering made no API request");
  const queryMs = await page.evaluate(() => window.todoPage.lastQueryMs);
  assert.ok(typeof queryMs === "number", "the module answered the query");

  step("complete a task in the page (keyboard)");
  await page.getByLabel("Completed: Buy milk").focus();
  await page.keyboard.press("Space");
  await page.locator("#list li.done", { hasText: "Buy milk" }).waitFor();

  step("changes through the API appear live");
  const created = await api("POST", "/tasks", { title: "Made through the API", priority: "High" });
  await page.locator("#list li", { hasText: "Made through the API" }).waitFor({ timeout: 10000 });
  const rent = (await api("GET", "/tasks?search=car")).tasks[0];
  await api("PUT", `/tasks/${rent.id}`, { title: "Rent a van for the trip" });
  await page.locator("#list li", { hasText: "Rent a van for the trip" }).waitFor({ timeout: 10000 });
  await api("DELETE", `/tasks/${created.id}`);
  await page.locator("#list li", { hasText: "Made through the API" }).waitFor({ state: "detached", timeout: 10000 });
  const pay = (await api("GET", "/tasks?search=pay")).tasks[0];
  await api("PATCH", `/tasks/${pay.id}/complete`);
  await page.waitForFunction(() => document.querySelectorAll("#list li").length === 5, null, { timeout: 10000 });
  await page.locator("#list li.done", { hasText: "Pay rent" }).waitFor();

  step("another tab's change appears live");
  const other = await context.newPage();
  await other.goto(`${base}/`); // the session is per tab: sign in again
  await other.getByLabel("Token (JWT)").fill(token);
  await other.getByRole("button", { name: "Sign in" }).click();
  await other.locator("#app").waitFor({ state: "visible" });
  other.on("dialog", (d) => d.accept());
  await other.getByRole("button", { name: "Delete Water the plants" }).click();
  await page.locator("#list li", { hasText: "Water the plants" }).waitFor({ state: "detached", timeout: 10000 });
  await other.close();

  step("accessibility basics: every control has a name, and the page fits a phone");
  const unnamed = await page.evaluate(() => [...document.querySelectorAll("input, select, textarea, button")]
    .filter((e) => e.offsetParent !== null || e.closest("dialog"))
    .filter((e) => !(e.labels?.length || e.getAttribute("aria-label") || e.textContent.trim() || e.closest("label")))
    .map((e) => e.outerHTML));
  assert.deepEqual(unnamed, []);
  await page.screenshot({ path: `${out}/todo-page.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling on a phone (${overflow}px too wide)`);
  await page.screenshot({ path: `${out}/todo-page-phone.png`, fullPage: true });

  assert.deepEqual(errors, [], "no errors in the page");
  step(`passed (screenshots in ${out}/)`);
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await close();
}
process.exit(failed ? 1 : 0);
