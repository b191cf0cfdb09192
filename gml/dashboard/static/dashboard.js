/* gml dashboard: draws a task's data (the JSON of gml.dashboard.task_data) with plotly.js.
 * The same code runs in the live dashboard (polling the server) and in the offline report (data inlined). */
"use strict";
const GML = (() => {
  const PAGE_ROWS = 50;
  const POLL_MS = 2000;
  const PARCOORDS_LINES = 1000;   // more jobs than this: half the lines for the best, half spread over the rest
  const GL_POINTS = 1000;         // scatter plots with more points than this draw with WebGL (SVG slows down)
  const GL_SLICES = 8;            // ...the slices only up to this many params (a page gets 16 WebGL contexts)
  const COLORS = {SUCCEEDED: "#1f77b4", EARLY_STOPPED: "#ff7f0e", RUNNING: "#2ca02c", PENDING: "#7f7f7f",
                  ERROR: "#d62728", KILLED: "#8c564b", TIMEOUT: "#e377c2", FILTERED: "#bcbd22"};
  const CONFIG = {displaylogo: false, responsive: true};
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const fmtNum = (v) => v === null || v === undefined ? "" : (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, "")) : String(v));
  const fmtTime = (t) => t ? new Date(t * 1000).toLocaleString() : "";
  const fmtDuration = (s) => s === null || s === undefined ? "" : (s < 60 ? s.toFixed(1) + " s" : s < 3600 ? (s / 60).toFixed(1) + " min" : (s / 3600).toFixed(2) + " h");
  const byId = (id) => document.getElementById(id);
  const better = (mode, a, b) => mode === "minimize" ? a < b : a > b;

  function empty(div, text) {
    div.innerHTML = `<p class="note">${esc(text)}</p>`;
  }

  function draw(id, traces, layout) {
    const div = byId(id);
    if (div.querySelector(".note")) div.innerHTML = "";
    return Plotly.react(div, traces, Object.assign({margin: {l: 60, r: 20, t: 30, b: 50}, hovermode: "closest"}, layout), CONFIG);
  }

  // ---- header -------------------------------------------------------------------------------------------------
  function renderHeader(d) {
    const best = d.best ? `job ${d.best.id}: ${d.reward_name} = ${fmtNum(d.best.reward)}` : "none yet";
    byId("task-summary").innerHTML =
      `<span class="status status-${esc(d.status)}">${esc(d.status)}</span>` + (d.reason ? ` <span class="reason">${esc(d.reason)}</span>` : "") +
      ` &middot; <b>${d.done}</b>/${d.total} jobs done &middot; best (${esc(d.mode)} ${esc(d.reward_name)}): ${esc(best)}` +
      ` &middot; started ${esc(fmtTime(d.created))} &middot; updated ${esc(fmtTime(d.updated))}`;
  }

  // ---- jobs table: sorted, filtered and paged in memory (only one page is in the DOM) ---------------------------
  const table = {data: null, sortKey: "id", sortDir: 1, page: 0, rows: [], onRow: null};

  function cellValue(job, key) {
    if (key.startsWith("param:")) return job.params[key.slice(6)];
    return job[key];
  }

  function tableColumns(d) {
    return [["id", "id"], ["status", "status"], ["reward", d.reward_name]]
      .concat(d.params.map((p) => ["param:" + p.name, p.name]))
      .concat([["duration", "duration"], ["stopped_step", "stopped at step"], ["stop_reason", "stop reason"]]);
  }

  function refreshTable() {
    const d = table.data;
    const text = byId("jobs-filter").value.trim().toLowerCase();
    const status = byId("jobs-status").value;
    const cols = tableColumns(d);
    let rows = d.jobs.filter((j) => (!status || j.status === status) &&
      (!text || cols.some(([k]) => String(cellValue(j, k) ?? "").toLowerCase().includes(text))));
    const key = table.sortKey, dir = table.sortDir;
    rows.sort((a, b) => {
      const x = cellValue(a, key), y = cellValue(b, key);
      if (x === y) return a.id - b.id;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y))) * dir;
    });
    table.rows = rows;
    const pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
    table.page = Math.min(table.page, pages - 1);
    const first = table.page * PAGE_ROWS;
    const head = cols.map(([k, label]) => `<th data-key="${esc(k)}">${esc(label)}${k === key ? (dir > 0 ? " ▲" : " ▼") : ""}</th>`).join("");
    const body = rows.slice(first, first + PAGE_ROWS).map((j) =>
      `<tr data-job="${j.id}" class="row-${esc(j.status)}">` + cols.map(([k]) => {
        const v = cellValue(j, k);
        return `<td>${esc(k === "duration" ? fmtDuration(v) : fmtNum(v))}</td>`;
      }).join("") + "</tr>").join("");
    byId("jobs-table").innerHTML = `<thead><tr>${head}</tr></thead><tbody>${body}</tbody>`;
    byId("jobs-page").textContent = rows.length ? `rows ${first + 1}–${Math.min(first + PAGE_ROWS, rows.length)} of ${rows.length} (${d.jobs.length} jobs)` : `no job matches (${d.jobs.length} jobs)`;
  }

  function setupTable(onRow) {
    table.onRow = onRow;
    byId("jobs-filter").addEventListener("input", () => { table.page = 0; refreshTable(); });
    byId("jobs-status").addEventListener("change", () => { table.page = 0; refreshTable(); });
    byId("jobs-prev").addEventListener("click", () => { table.page = Math.max(0, table.page - 1); refreshTable(); });
    byId("jobs-next").addEventListener("click", () => { table.page += 1; refreshTable(); });
    byId("jobs-table").addEventListener("click", (ev) => {
      const th = ev.target.closest("th");
      if (th) {
        const k = th.dataset.key;
        table.sortDir = table.sortKey === k ? -table.sortDir : 1;
        table.sortKey = k;
        refreshTable();
        return;
      }
      const tr = ev.target.closest("tr[data-job]");
      if (tr && table.onRow) table.onRow(Number(tr.dataset.job));
    });
  }

  function renderTable(d) {
    table.data = d;
    const select = byId("jobs-status");
    const chosen = select.value;
    const statuses = [...new Set(d.jobs.map((j) => j.status))].sort();
    select.innerHTML = `<option value="">every status</option>` + statuses.map((s) => `<option${s === chosen ? " selected" : ""}>${esc(s)}</option>`).join("");
    refreshTable();
  }

  // ---- plots ----------------------------------------------------------------------------------------------------
  function scored(d) { return d.jobs.filter((j) => j.reward !== null && j.reward !== undefined); }

  function renderHistory(d) {
    const jobs = scored(d);
    if (!jobs.length) return empty(byId("plot-history"), "no job has a reward yet");
    const groups = {};
    for (const j of jobs) (groups[j.status] = groups[j.status] || []).push(j);
    const traces = Object.entries(groups).map(([status, js]) => ({
      type: jobs.length > GL_POINTS ? "scattergl" : "scatter", mode: "markers", name: status.toLowerCase().replace("_", " "), x: js.map((j) => j.id), y: js.map((j) => j.reward),
      marker: {color: COLORS[status] || "#333", size: 7}, text: js.map((j) => `job ${j.id}`)}));
    const xs = [], ys = [];
    let best = null;
    for (const j of [...jobs].sort((a, b) => a.id - b.id)) {
      if (best === null || better(d.mode, j.reward, best)) best = j.reward;
      xs.push(j.id); ys.push(best);
    }
    traces.push({type: "scatter", mode: "lines", name: "best so far", x: xs, y: ys, line: {shape: "hv", color: "#d62728", width: 2}});
    return draw("plot-history", traces, {xaxis: {title: {text: "job id"}}, yaxis: {title: {text: d.reward_name}}});
  }

  function axisOf(p, jobs) {
    const values = jobs.map((j) => j.params[p.name]);
    if (p.kind === "number") return {label: p.name, values: values};
    const labels = p.values.map(String);
    return {label: p.name, values: values.map((v) => labels.indexOf(String(v))), tickvals: labels.map((_, i) => i), ticktext: labels};
  }

  function renderParcoords(d) {
    let jobs = scored(d).filter((j) => d.params.every((p) => p.name in j.params));
    if (!jobs.length) return empty(byId("plot-parcoords"), "no job has a reward yet");
    const all = jobs.length;
    if (all > PARCOORDS_LINES) {     // each line costs: keep the picture of good vs. bad with a bounded count
      const ranked = [...jobs].sort((a, b) => (d.mode === "minimize" ? a.reward - b.reward : b.reward - a.reward));
      const half = PARCOORDS_LINES / 2, rest = ranked.slice(half);
      jobs = ranked.slice(0, half).concat(Array.from({length: half}, (_, i) => rest[Math.floor(i * rest.length / half)]));
    }
    byId("parcoords-note").textContent = all > PARCOORDS_LINES
      ? `${all} jobs with a reward: the ${PARCOORDS_LINES / 2} best and ${PARCOORDS_LINES / 2} more spread evenly over the others by rank`
      : `${all} jobs with a reward`;
    const rewards = jobs.map((j) => j.reward);
    const dims = d.params.map((p) => axisOf(p, jobs)).concat([{label: d.reward_name, values: rewards}]);
    return draw("plot-parcoords", [{type: "parcoords", dimensions: dims,
      line: {color: rewards, colorscale: "Viridis", reversescale: d.mode === "minimize", showscale: true}}], {margin: {l: 70, r: 70, t: 50, b: 30}});
  }

  function renderSlices(d) {
    const box = byId("plot-slices");
    const jobs = scored(d);
    if (!jobs.length || !d.params.length) return empty(box, "no job has a reward yet");
    if (box.querySelector(".note")) box.innerHTML = "";
    d.params.forEach((p, i) => {     // every box first: a plot takes its width from the grid when drawn
      if (!byId("plot-slice-" + i)) {
        const div = document.createElement("div");
        div.id = "plot-slice-" + i;
        div.className = "slice-plot plot";
        box.appendChild(div);
      }
    });
    return Promise.all(d.params.map((p, i) => {
      const div = byId("plot-slice-" + i);
      const js = jobs.filter((j) => p.name in j.params);
      const xs = js.map((j) => j.params[p.name]);
      const numeric = p.kind === "number";
      const positive = numeric && xs.length && Math.min(...xs) > 0;
      const xaxis = {title: {text: p.name}, type: numeric ? (positive && Math.max(...xs) / Math.min(...xs) >= 100 ? "log" : "linear") : "category"};
      const gl = js.length > GL_POINTS && d.params.length <= GL_SLICES;
      return draw(div.id, [{type: gl ? "scattergl" : "scatter", mode: "markers", x: xs, y: js.map((j) => j.reward), text: js.map((j) => `job ${j.id}`),
        marker: {color: js.map((j) => j.id), colorscale: "Blues", showscale: i === d.params.length - 1, colorbar: {title: {text: "job id"}}, size: 7}}],
        {xaxis: xaxis, yaxis: {title: {text: d.reward_name}}, height: 300, showlegend: false});
    }));
  }

  function renderImportance(imp) {
    const div = byId("plot-importance");
    if (!imp) return empty(div, "computing parameter importance …");
    const names = Object.keys(imp.values);
    byId("importance-method").textContent = `${imp.method}; ${imp.trials} scored jobs`;
    if (!names.length) return empty(div, imp.note || "no importance");
    names.reverse();
    return draw("plot-importance", [{type: "bar", orientation: "h", x: names.map((n) => imp.values[n]), y: names,
      marker: {color: "#1f77b4"}}], {xaxis: {title: {text: "share of the reward's variance"}}, height: 120 + 30 * names.length});
  }

  function renderCurves(d) {
    const ids = Object.keys(d.curves);
    if (!ids.length) return empty(byId("plot-curves"), `no job has reported ${d.reward_name} yet`);
    const jobs = new Map(d.jobs.map((j) => [String(j.id), j]));
    const normal = {x: [], y: [], text: []}, stopped = {x: [], y: [], text: []}, marks = {x: [], y: [], text: []};
    for (const id of ids) {
      const job = jobs.get(id);
      const early = job && job.status === "EARLY_STOPPED";
      const into = early ? stopped : normal;
      for (const [step, value] of d.curves[id]) { into.x.push(step); into.y.push(value); into.text.push(`job ${id}`); }
      into.x.push(null); into.y.push(null); into.text.push("");
      if (early && job.stopped_step !== null) {
        const at = d.curves[id].filter(([step]) => step <= job.stopped_step).pop() || d.curves[id][d.curves[id].length - 1];
        marks.x.push(job.stopped_step); marks.y.push(at[1]); marks.text.push(`job ${id} stopped at step ${job.stopped_step}`);
      }
    }
    const line = (t, name, color) => ({type: "scattergl", mode: "lines", name: name, x: t.x, y: t.y, text: t.text, hoverinfo: "text+x+y", line: {color: color, width: 1}, opacity: 0.8});
    const traces = [line(normal, "jobs", "#1f77b4"), line(stopped, "early-stopped jobs", "#ff7f0e"),
      {type: "scattergl", mode: "markers", name: "stopped here", x: marks.x, y: marks.y, text: marks.text, hoverinfo: "text+y",
       marker: {symbol: "x", size: 11, color: "#d62728", line: {width: 2, color: "#d62728"}}}];
    return draw("plot-curves", traces, {xaxis: {title: {text: "step"}}, yaxis: {title: {text: d.reward_name}}});
  }

  function renderPareto(d) {
    const section = byId("section-pareto");
    if (!d.cost) { section.hidden = true; return null; }
    section.hidden = false;
    const pts = d.cost.points, front = new Set(d.cost.front);
    const onFront = pts.filter((p) => front.has(p[0])).sort((a, b) => a[1] - b[1]);
    return draw("plot-pareto", [
      {type: "scattergl", mode: "markers", name: "jobs", x: pts.map((p) => p[1]), y: pts.map((p) => p[2]), text: pts.map((p) => `job ${p[0]}`), marker: {color: "#9ecae1", size: 7}},
      {type: "scatter", mode: "lines+markers", name: "Pareto front", x: onFront.map((p) => p[1]), y: onFront.map((p) => p[2]), text: onFront.map((p) => `job ${p[0]}`),
       line: {shape: "hv", color: "#d62728"}, marker: {size: 9, color: "#d62728"}}],
      {xaxis: {title: {text: d.cost.name}}, yaxis: {title: {text: d.reward_name}}});
  }

  /** Draw everything; milliseconds per part end up in ``timings`` (read by benchmarks/dashboard_load.py). */
  const timings = {};
  async function timed(name, draw) {
    const started = performance.now();
    await draw();
    timings[name] = Math.round(performance.now() - started);
  }

  async function renderTask(d) {
    await timed("table", () => { renderHeader(d); renderTable(d); });
    const paint = () => new Promise((resolve) => setTimeout(resolve, 0));   // let the browser show what is drawn
    for (const [name, draw] of [["history", renderHistory], ["curves", renderCurves], ["parcoords", renderParcoords],
                                ["pareto", renderPareto], ["slices", renderSlices]]) {
      await timed(name, () => draw(d));
      await paint();
    }
  }

  // ---- pages ----------------------------------------------------------------------------------------------------
  async function getJSON(url) {
    const r = await fetch(url, {cache: "no-store"});
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || `${r.status} ${r.statusText}`);
    return body;
  }

  function showProblem(text) {
    const box = byId("problem");
    box.hidden = !text;
    box.textContent = text || "";
  }

  async function showLog(task, jobId) {
    const pre = byId("log-tail");
    byId("log-title").textContent = `log of job ${jobId}`;
    try {
      const log = await getJSON(`/api/task/${encodeURIComponent(task)}/log/${jobId}`);
      pre.textContent = log.text === null ? `(no log file at ${log.path})` : (log.truncated ? "…\n" : "") + log.text;
    } catch (err) {
      pre.textContent = `cannot read the log: ${err.message}`;
    }
  }

  /** The task page. ``live``: poll the server and redraw when the store changes; otherwise (the report) the data is
   * all there is. */
  async function task(live) {
    performance.mark("gml: page parsed");
    const data = JSON.parse(byId("gml-data").textContent);
    performance.mark("gml: data parsed");
    const name = data.task;
    setupTable(live ? (id) => showLog(name, id) : null);
    await renderTask(data);
    performance.mark("gml: drawn");
    renderImportance(data.importance || null);
    document.body.dataset.rendered = "1";
    if (!live) return;
    let stamp = null, done = null;
    const refreshImportance = async (d) => {
      if (d.done === done) return;
      done = d.done;
      try { renderImportance(await getJSON(`/api/task/${encodeURIComponent(name)}/importance`)); } catch (err) { showProblem(err.message); }
    };
    refreshImportance(data);
    const poll = async () => {
      try {
        const s = await getJSON(`/api/task/${encodeURIComponent(name)}/stamp`);
        if (stamp !== null && s.stamp !== stamp) {
          const d = await getJSON(`/api/task/${encodeURIComponent(name)}`);
          await renderTask(d);
          refreshImportance(d);
        }
        stamp = s.stamp;
        showProblem(null);
      } catch (err) {
        showProblem(`cannot update: ${err.message}`);
      }
      setTimeout(poll, POLL_MS);
    };
    poll();
  }

  function renderHome(tasks) {
    const body = tasks.map((t) => t.error
      ? `<tr><td><a href="/task/${encodeURIComponent(t.task)}">${esc(t.task)}</a></td><td class="status-ERROR" colspan="5">${esc(t.error)}</td></tr>`
      : `<tr data-task="${esc(t.task)}"><td><a href="/task/${encodeURIComponent(t.task)}">${esc(t.task)}</a></td>` +
        `<td><span class="status status-${esc(t.status)}">${esc(t.status)}</span></td>` +
        `<td><progress max="${t.total}" value="${t.done}"></progress> ${t.done}/${t.total}</td>` +
        `<td>${t.best ? esc(`${t.reward_name} = ${fmtNum(t.best.reward)} (job ${t.best.id})`) : ""}</td>` +
        `<td>${esc(fmtTime(t.created))}</td><td>${esc(fmtTime(t.updated))}</td></tr>`).join("");
    byId("tasks").innerHTML = `<thead><tr><th>task</th><th>status</th><th>progress</th><th>best</th><th>started</th><th>updated</th></tr></thead>` +
      `<tbody>${body || '<tr><td colspan="6">no tasks yet: start one with search-run</td></tr>'}</tbody>`;
  }

  async function home() {
    const poll = async () => {
      try { renderHome(await getJSON("/api/tasks")); showProblem(null); document.body.dataset.rendered = "1"; } catch (err) { showProblem(`cannot list the tasks: ${err.message}`); }
      setTimeout(poll, POLL_MS * 2);
    };
    poll();
  }

  return {task, home, timings};
})();
