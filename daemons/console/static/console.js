// The console page: polls the JSON API every 5 s (the reports when picked) and draws with Chart.js.
// Every part shows its own error or "no … yet" in place: a source that is down never blanks the page.
'use strict';

const POLL_MS = 5000;
const charts = {};
const $ = (id) => document.getElementById(id);

async function api(path) {
  const r = await fetch(path, { cache: 'no-store' });
  const body = await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }));
  if (!r.ok) throw new Error(body.error || `${r.status} ${r.statusText}`);
  return body;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined) e.setAttribute(k, v);
  for (const c of children) e.append(c === null || c === undefined ? '' : c);
  return e;
}

const num = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '–');
const ago = (s) => (s === null || s === undefined ? 'never' : s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`);
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

// --- the flow ------------------------------------------------------------------------------------

const STAGES = [
  ['producer', /producer/i],
  ['topic', /broker|partition|cluster|kafka/i],
  ['consumer', /consumer|lag/i],
  ['staging', /stag/i],
  ['ETL', /\betl\b/i],
  ['lake', /lake/i],
  ['crawl', /crawl/i],
  ['reports', /report/i],
];

function jobOf(status, name) {
  return status.jobs.ok ? status.jobs.value.find((j) => j.name === name) : undefined;
}

function stageLines(status, stage) {
  const s = status;
  const daemon = (n) => (s.daemons.ok ? s.daemons.value.find((d) => d.daemon === n) : undefined);
  const job = (n) => {
    const j = jobOf(s, n);
    return j && j.last ? `${j.last.outcome} ${ago(Math.round((Date.parse(s.at) - Date.parse(j.last.start)) / 1000))}, ${secs(j.last.durationMs)}` : 'not run yet';
  };
  switch (stage) {
    case 'producer': {
      const d = daemon('producer');
      return [d ? d.state : 'unknown', d && d.heartbeatAgeS !== null ? `heartbeat ${ago(d.heartbeatAgeS)}` : ''];
    }
    case 'topic':
      return s.cluster.ok
        ? [`${s.topic}`, s.cluster.value.brokers ? `${s.cluster.value.brokers.length}/${s.cluster.value.expected} brokers` : 'brokers unknown', `${s.cluster.value.underReplicated.length} under-replicated`]
        : [s.topic, `unavailable: ${s.cluster.error}`];
    case 'consumer':
      return [
        s.rates.ok ? `in ${num(s.rates.value.recordsInPerS)}/s` : `rates unavailable`,
        s.lag.ok ? `lag ${num(s.lag.value.total)}` : `lag unavailable: ${s.lag.error}`,
      ];
    case 'staging':
      return [
        s.rates.ok ? `staged ${num(s.rates.value.recordsStagedPerS)}/s` : 'rates unavailable',
        s.freshness.ok ? `newest ${ago(s.freshness.value.stagedAgeS)}` : `unavailable: ${s.freshness.error}`,
        s.dlq.ok ? `${num(s.dlq.value.objects)} DLQ objects` : '',
      ];
    case 'ETL':
      return [job('etl')];
    case 'lake':
      return [s.freshness.ok ? `updated ${ago(s.freshness.value.lakeAgeS)}` : `unavailable: ${s.freshness.error}`];
    case 'crawl':
      return [job('crawl')];
    case 'reports': {
      const reps = s.jobs.ok ? s.jobs.value.filter((j) => j.name.startsWith('report')) : [];
      const failed = reps.filter((j) => j.last && j.last.outcome !== 'succeeded').length;
      return [`${reps.length} scheduled`, failed ? `${failed} failed last time` : reps.some((j) => j.last) ? 'last runs succeeded' : 'not run yet'];
    }
    default:
      return [];
  }
}

function renderFlow(status) {
  const flow = $('flow');
  flow.replaceChildren(
    ...STAGES.map(([name, re]) => {
      const problems = status.problems.filter((p) => re.test(p));
      const cls = problems.length ? 'bad' : 'ok';
      const li = el('li', { class: cls, 'data-stage': name, title: problems.join('\n') || 'healthy' }, el('b', {}, name));
      for (const l of stageLines(status, name).filter(Boolean)) li.append(el('span', { class: 'line' }, l), el('br'));
      return li;
    }),
  );
  $('problems').textContent = status.problems.length ? status.problems.join('; ') : '';
  const h = $('health');
  h.className = `badge ${status.healthy ? 'ok' : 'bad'}`;
  h.textContent = status.healthy ? 'healthy' : 'unhealthy';
  $('where').textContent = `mode ${status.mode} · bucket ${status.bucket} · topic ${status.topic}`;
  $('updated').textContent = `at ${status.at.slice(11, 19)}Z`;
  $('lake-age').textContent = status.freshness.ok ? `lake: last written ${ago(status.freshness.value.lakeAgeS)} (the ETL's bookmark)` : '';
}

// --- charts ------------------------------------------------------------------------------------

function lineChart(id, datasets, opts = {}) {
  const canvas = $(id);
  const data = { datasets };
  if (charts[id]) {
    charts[id].data = data;
    charts[id].update('none');
    return charts[id];
  }
  charts[id] = new Chart(canvas, {
    type: opts.type || 'line',
    data,
    options: {
      animation: false,
      parsing: opts.parsing,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', intersect: false },
      scales: opts.scales || { x: { type: 'category', ticks: { maxTicksLimit: 8 } }, y: { beginAtZero: true } },
      plugins: { legend: { position: 'bottom' } },
    },
  });
  return charts[id];
}

function renderSeries(s) {
  const hhmm = (t) => t.slice(11, 16);
  const sets = (list) => list.map((x) => ({ label: x.name, data: x.points.map((p) => ({ x: hhmm(p.t), y: p.v })), pointRadius: 1.5 }));
  const empty = (list) => list.every((x) => x.points.length === 0);
  $('rates-empty').hidden = !empty(s.rates);
  $('lag-empty').hidden = !(s.lag.length === 0 || empty(s.lag));
  $('freshness-empty').hidden = !empty(s.freshness);
  lineChart('chart-rates', sets(s.rates));
  lineChart('chart-lag', sets(s.lag));
  lineChart('chart-freshness', sets(s.freshness));
}

// --- jobs and dead letters ---------------------------------------------------------------------

function renderJobs(jobs) {
  const rows = [];
  for (const j of jobs) {
    if (j.runs.length === 0) rows.push(el('tr', {}, el('td', {}, j.name), el('td', { colspan: '4', class: 'empty' }, 'no run yet')));
    for (const r of j.runs.slice(0, 5)) {
      rows.push(
        el('tr', { class: r.outcome === 'succeeded' ? '' : 'bad' }, el('td', {}, j.name), el('td', {}, r.start.replace('T', ' ').slice(0, 19)), el('td', { class: 'num' }, secs(r.durationMs)), el('td', {}, r.outcome), el('td', {}, r.error || r.summary || '')),
      );
    }
  }
  $('jobs').tBodies[0].replaceChildren(...rows);
}

function renderDlq(d) {
  const { objects, reasons } = d;
  const body = $('dlq').tBodies[0];
  $('dlq-reasons').tBodies[0].replaceChildren(...reasons.map((r) => el('tr', {}, el('td', {}, r.stage), el('td', {}, r.reason), el('td', { class: 'num' }, num(r.count)))));
  $('dlq-note').textContent = objects.length > d.objectsRead ? `reasons counted in the newest ${d.objectsRead} of ${num(objects.length)} objects` : '';
  if (objects.length === 0) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: '4', class: 'empty' }, 'no dead letters')));
    return;
  }
  body.replaceChildren(
    ...objects.slice(0, 50).map((o) => {
      const tr = el('tr', { class: 'clickable', title: 'show its records' }, el('td', {}, o.stage), el('td', {}, o.key), el('td', { class: 'num' }, num(o.size)), el('td', {}, o.replayed ? 'yes' : 'no'));
      tr.addEventListener('click', () => showDlq(o.key));
      return tr;
    }),
  );
}

async function showDlq(key) {
  const pre = $('dlq-show');
  pre.hidden = false;
  try {
    pre.textContent = JSON.stringify(await api(`/api/dlq/show?key=${encodeURIComponent(key)}`), null, 2);
  } catch (err) {
    pre.textContent = `cannot show ${key}: ${err.message}`;
  }
}

// --- reports -------------------------------------------------------------------------------------

/** What to draw of a report: x (a date or year column), y (the chosen number), one series per index. */
const REPORT_CHARTS = {
  yearly_ohlc: { x: 'trade_year', y: 'close' },
  rolling_30d_close_usd: { x: 'trade_date', y: 'avg_close_usd_30d' },
  daily_ohlc: { x: 'trade_date', y: 'close' },
  best_worst_days: { x: 'trade_date', y: 'daily_return', type: 'scatter' },
  freshness: { x: 'index', y: 'days_since_trade', type: 'bar' },
  data_quality: { x: 'detail', y: 'value', type: 'bar' },
};

function chartSpec(name, columns, rows) {
  const isNum = (i) => rows.length > 0 && rows.every((r) => r[i] === '' || !Number.isNaN(Number(r[i])));
  const spec = REPORT_CHARTS[name] || {};
  const x = spec.x && columns.includes(spec.x) ? spec.x : columns.find((c) => /date|year|time/.test(c)) || columns[0];
  const y = spec.y && columns.includes(spec.y) ? spec.y : [...columns].reverse().find((c, i) => isNum(columns.length - 1 - i) && c !== x);
  const series = columns.includes('index') && x !== 'index' ? 'index' : undefined;
  return { x, y, series, type: spec.type || (series ? 'line' : 'bar') };
}

function renderReport(file) {
  const { columns, rows } = file;
  $('report').tHead.replaceChildren(el('tr', {}, ...columns.map((c) => el('th', {}, c))));
  $('report').tBodies[0].replaceChildren(...rows.slice(0, 500).map((r) => el('tr', {}, ...r.map((v) => el('td', {}, v)))));
  $('report-where').textContent = `${rows.length} rows · ${file.location}`;
  const spec = chartSpec(file.name, columns, rows);
  const xi = columns.indexOf(spec.x);
  const yi = columns.indexOf(spec.y);
  const groups = new Map();
  for (const r of rows) {
    const key = spec.series ? r[columns.indexOf(spec.series)] : spec.y;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push({ x: r[xi], y: r[yi] === '' ? null : Number(r[yi]) });
  }
  const xs = [...new Set(rows.map((r) => r[xi]))].sort();
  const datasets = [...groups].map(([label, data]) => ({ label, data, pointRadius: spec.type === 'scatter' ? 3 : 0, showLine: spec.type !== 'scatter' }));
  if (charts['chart-report']) {
    charts['chart-report'].destroy();
    delete charts['chart-report'];
  }
  lineChart('chart-report', datasets, { type: spec.type === 'scatter' ? 'line' : spec.type, scales: { x: { type: 'category', labels: xs, ticks: { maxTicksLimit: 12 } }, y: { title: { display: true, text: spec.y } } } });
  $('chart-report').dataset.series = String(datasets.length);
}

let reportList = [];

async function loadReport() {
  const name = $('report-name').value;
  const date = $('report-date').value;
  if (!name || !date) return; // a report not run yet has no file to fetch: fillDates said so
  try {
    renderReport(await api(`/api/reports/${encodeURIComponent(name)}${date ? `?date=${date}` : ''}`));
  } catch (err) {
    $('report-where').textContent = err.message;
    $('report').tBodies[0].replaceChildren();
  }
}

function fillDates() {
  const r = reportList.find((x) => x.name === $('report-name').value);
  const dates = r ? [...r.dates].reverse() : [];
  $('report-date').replaceChildren(...dates.map((d) => el('option', { value: d }, d)));
  if (dates.length === 0) $('report-where').textContent = 'not run yet';
}

async function loadReports() {
  try {
    reportList = await api('/api/reports');
  } catch (err) {
    $('report-where').textContent = err.message;
    return;
  }
  const sel = $('report-name');
  const keep = sel.value;
  sel.replaceChildren(...reportList.map((r) => el('option', { value: r.name }, `${r.name}${r.latest ? '' : ' (not run yet)'}`)));
  const first = reportList.find((r) => r.latest);
  sel.value = keep || (first ? first.name : reportList[0] ? reportList[0].name : '');
  fillDates();
  await loadReport();
}

// --- polling -----------------------------------------------------------------------------------

async function part(name, path, render, errorAt) {
  try {
    render(await api(path));
    window.kafkalakeConsole.loaded[name] = new Date().toISOString();
  } catch (err) {
    window.kafkalakeConsole.errors[name] = err.message;
    errorAt(err.message);
  }
}

/** The partitions the last status' lag named (Kafka's answer), for the lag chart. */
function partitionsQuery() {
  const s = window.kafkalakeConsole.status;
  return s && s.lag.ok && s.lag.value.partitions.length ? `?partitions=${s.lag.value.partitions.map((p) => p.partition).join(',')}` : '';
}

async function poll() {
  await Promise.all([
    part('status', '/api/status', (s) => {
      window.kafkalakeConsole.status = s;
      renderFlow(s);
    }, (m) => ($('problems').textContent = `status unavailable: ${m}`)),
    part('series', `/api/series${partitionsQuery()}`, renderSeries, (m) => {
      $('rates-empty').hidden = false;
      $('rates-empty').textContent = `metrics unavailable: ${m}`;
    }),
    part('jobs', '/api/jobs', renderJobs, (m) => $('jobs').tBodies[0].replaceChildren(el('tr', {}, el('td', { colspan: '5', class: 'error' }, `job history unavailable: ${m}`)))),
    part('dlq', '/api/dlq', renderDlq, (m) => $('dlq').tBodies[0].replaceChildren(el('tr', {}, el('td', { colspan: '4', class: 'error' }, `dead letters unavailable: ${m}`)))),
  ]);
  window.kafkalakeConsole.polls++;
}

window.kafkalakeConsole = { polls: 0, loaded: {}, errors: {}, status: undefined };

document.addEventListener('DOMContentLoaded', () => {
  $('report-name').addEventListener('change', () => {
    fillDates();
    loadReport();
  });
  $('report-date').addEventListener('change', loadReport);
  poll();
  loadReports();
  setInterval(poll, POLL_MS);
  setInterval(loadReports, 60_000);
});
