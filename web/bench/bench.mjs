// Benchmark in headless Chromium: filter + search + sort + page of 10,000 tasks through the
// WebAssembly module (TaskSet.query, the core's engine) against an equivalent hand-written JS
// function on the same data. Fails if the two ever disagree; prints the figures (a Markdown
// table) and writes them to $OUT_DIR/bench.json. Environment: BASE_URL (a running todo-server,
// which serves the module), BENCH_TASKS (default 10000).
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { launch } from "../tests/chromium.mjs";

const base = process.env.BASE_URL;
const out = process.env.OUT_DIR ?? "target/browser-test";
const n = Number(process.env.BENCH_TASKS ?? 10000);
assert.ok(base, "BASE_URL is required");

const QUERIES = [
  "search=report&status=pending&priority=High,Medium&sort_by=due_datetime&sort_order=asc&limit=20",
  "search=team+review&sort_by=title&sort_order=asc&limit=50",
  "tags=2,5&tags_mode=any&status=pending&sort_by=priority&sort_order=desc&limit=20",
  "sort_by=created_at&sort_order=desc&limit=20&offset=100",
  "search=e&sort_by=title&sort_order=asc&limit=100",
];

// Runs in the page.
async function bench({ n, queries }) {
  // Deterministic data.
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const words = ["report", "team", "review", "budget", "call", "email", "plan", "garden", "rent", "car",
    "meeting", "draft", "invoice", "doctor", "school", "trip", "fix", "order", "read", "write"];
  const prios = ["High", "Medium", "Low"];
  const t0 = Date.UTC(2026, 0, 1);
  const tasks = [];
  for (let i = 1; i <= n; i++) {
    const title = Array.from({ length: 2 + Math.floor(rnd() * 4) }, () => pick(words)).join(" ");
    const cap = rnd() < 0.3 ? title[0].toUpperCase() + title.slice(1) : title;
    const tags = [];
    for (let t = 1; t <= 8; t++) if (rnd() < 0.15) tags.push({ id: t, name: `tag${t}`, color: "#336699" });
    tasks.push({
      id: i, user_id: "bench", title: cap,
      description: rnd() < 0.5 ? Array.from({ length: 8 }, () => pick(words)).join(" ") : null,
      completed: rnd() < 0.3, completed_at: null,
      due_datetime: rnd() < 0.8 ? new Date(t0 + Math.floor(rnd() * 120 * 86400) * 1000).toISOString().replace(".000Z", "Z") : null,
      priority: pick(prios), recurrence_pattern: "none", rrule: null, recurrence_end_date: null, timezone: "UTC",
      parent_task_id: null, next_task_id: null,
      created_at: new Date(t0 - (n - i) * 60000).toISOString().replace(".000Z", "Z"),
      updated_at: new Date(t0).toISOString(), tags, reminder: null,
    });
  }

  // The hand-written JS equivalent: prepare once, then filter, sort and page per query.
  const RANK = { High: 3, Medium: 2, Low: 1 };
  function prepare(list) {
    return list.map((t) => ({
      t, id: t.id,
      text: t.description ? `${t.title.toLowerCase()}\n${t.description.toLowerCase()}` : t.title.toLowerCase(),
      titleKey: t.title.toLowerCase(), completed: t.completed,
      due: t.due_datetime ? Date.parse(t.due_datetime) : null,
      rank: RANK[t.priority], prio: t.priority,
      created: Date.parse(t.created_at), tags: t.tags.map((g) => g.id),
    }));
  }
  function jsQuery(rows, qs) {
    const p = new URLSearchParams(qs);
    const words = (p.get("search") ?? "").toLowerCase().split(/\s+/).filter(Boolean);
    const status = p.get("status") ?? "all";
    const prio = p.get("priority") ? new Set(p.get("priority").split(",")) : null;
    const tags = p.get("tags") ? p.get("tags").split(",").map(Number) : null;
    const all = p.get("tags_mode") === "all";
    const sortBy = p.get("sort_by") ?? "created_at";
    const dir = p.get("sort_order") === "asc" ? 1 : -1;
    const limit = Number(p.get("limit") ?? 20);
    const offset = Number(p.get("offset") ?? 0);
    const hits = rows.filter((r) =>
      (status === "all" || (status === "pending") !== r.completed) &&
      (!prio || prio.has(r.prio)) &&
      (!tags || (all ? tags.every((x) => r.tags.includes(x)) : tags.some((x) => r.tags.includes(x)))) &&
      words.every((w) => r.text.includes(w)));
    const byId = (a, b) => dir * (a.id - b.id);
    const cmp = {
      created_at: (a, b) => dir * (a.created - b.created) || byId(a, b),
      priority: (a, b) => dir * (a.rank - b.rank) || byId(a, b),
      title: (a, b) => (a.titleKey < b.titleKey ? -dir : a.titleKey > b.titleKey ? dir : 0) || byId(a, b),
      due_datetime: (a, b) => a.due === null ? (b.due === null ? byId(a, b) : 1) : b.due === null ? -1 : dir * (a.due - b.due) || byId(a, b),
    }[sortBy];
    hits.sort(cmp);
    return { items: hits.slice(offset, offset + limit).map((r) => r.t), total: hits.length, limit, offset };
  }

  const m = await import("/app/pkg/todo_wasm_query.js");
  await m.default();
  let s = performance.now();
  const set = new m.TaskSet(tasks);
  const wasmLoad = performance.now() - s;
  s = performance.now();
  const rows = prepare(tasks);
  const jsLoad = performance.now() - s;

  // Batches of 20 runs, alternating module and JS so that load from elsewhere on the machine
  // hits both alike; the median batch of 25 per side.
  const compare = (fw, fj) => {
    for (let i = 0; i < 20; i++) { fw(); fj(); } // warm up
    const w = [], j = [];
    const batch = (f, into) => {
      const start = performance.now();
      for (let i = 0; i < 20; i++) f();
      into.push((performance.now() - start) / 20);
    };
    for (let b = 0; b < 25; b++) { batch(fw, w); batch(fj, j); }
    const median = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
    return [median(w), median(j)];
  };
  const results = [];
  for (const q of queries) {
    const w = set.query(q);
    const j = jsQuery(rows, q);
    const same = w.total === j.total && w.items.length === j.items.length && w.items.every((t, i) => t === j.items[i]);
    const [wasmMs, jsMs] = compare(() => set.query(q), () => jsQuery(rows, q));
    results.push({ query: q, total: w.total, same, wasm_ms: wasmMs, js_ms: jsMs });
  }
  return { tasks: n, wasm_load_ms: wasmLoad, js_prepare_ms: jsLoad, userAgent: navigator.userAgent, results };
}

const { context, close } = await launch();
let failed = false;
try {
  const page = await context.newPage();
  await page.goto(`${base}/healthz`); // same origin as the module, no page script
  const r = await page.evaluate(bench, { n, queries: QUERIES });
  const mod = await fetch(`${base}/app/pkg/todo_wasm_query_bg.wasm`).then((x) => x.arrayBuffer());
  const { gzipSync } = await import("node:zlib");
  r.module_bytes = mod.byteLength;
  r.module_gzip_bytes = gzipSync(Buffer.from(mod), { level: 9 }).length;
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}/bench.json`, JSON.stringify(r, null, 2));
  const f = (x) => x.toFixed(3);
  console.log(`bench: ${r.tasks} tasks in ${r.userAgent.match(/(HeadlessChrome|Chrome)\/[\d.]+/)?.[0]}; ` +
    `load: module ${f(r.wasm_load_ms)} ms, JS prepare ${f(r.js_prepare_ms)} ms; ` +
    `module ${r.module_bytes} bytes, ${r.module_gzip_bytes} gzipped`);
  console.log("| query | matches | module ms/query | JS ms/query |\n|---|---:|---:|---:|");
  for (const x of r.results) console.log(`| \`${x.query}\` | ${x.total} | ${f(x.wasm_ms)} | ${f(x.js_ms)} |`);
  const bad = r.results.filter((x) => !x.same);
  assert.deepEqual(bad, [], "the module and the JS function disagree");
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await close();
}
process.exit(failed ? 1 : 0);
