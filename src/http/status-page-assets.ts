/**
 * The status page's three files, served as they are (no build step, no framework, nothing loaded from
 * elsewhere). The script builds every node with createElement and textContent: values from
 * /status.json (labels, log lines, reasons) are untrusted and never become markup. The CSP the route
 * sends forbids inline scripts, so even markup that slipped through could not run.
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Helm status</title>
<link rel="stylesheet" href="/status-page.css">
<script src="/status-page.js" defer></script>
</head>
<body>
<header><h1>Helm</h1><span id="helm-health">…</span><span id="updated"></span></header>
<main>
<div id="unavailable"></div>
<section><h2>Incidents <span id="monitor-state"></span></h2><table id="incidents"></table>
<h3>Recently closed</h3><table id="closed-incidents"></table></section>
<section><h2>Services</h2><div id="services"></div></section>
<section><h2>Parked for Warden <small>(read-only: approvals come only from Warden)</small></h2><div id="parked"></div></section>
<section><h2>Run log <span id="chain"></span></h2><div id="chain-problems"></div><table id="runlog"></table></section>
<section><h2>Recent alerts</h2><table id="alerts"></table></section>
</main>
</body>
</html>
`;

export const STATUS_PAGE_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{display:flex;gap:1em;align-items:baseline;padding:.5em 1em;background:#223;color:#fff}
header h1{margin:0;font-size:1.3em}main{padding:0 1em}section{margin:1em 0}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
.ok{color:#070}.bad{color:#b00;font-weight:bold}pre{white-space:pre-wrap;background:#f0f0f0;padding:.5em;margin:.3em 0}
.card{background:#fff;border:1px solid #ddd;padding:.5em;margin:.5em 0}small{font-weight:normal;color:#666}
`;

/** How often an open page asks for /status.json (the bench polls at the same pace). */
export const STATUS_PAGE_POLL_MS = 2000;

export const STATUS_PAGE_JS = `'use strict';
const POLL_MS = ${STATUS_PAGE_POLL_MS};
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}
function row(cells, head) {
  const tr = el('tr');
  for (const c of cells) tr.appendChild(c instanceof Node ? wrap(head ? 'th' : 'td', c) : el(head ? 'th' : 'td', c));
  return tr;
}
function wrap(tag, child) { const n = el(tag); n.appendChild(child); return n; }
function table(node, head, rows) { node.replaceChildren(row(head, true), ...rows.map((r) => row(r))); }
function duration(s) {
  if (s === null || s === undefined) return '-';
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d > 0 ? d + 'd ' + h + 'h' : h > 0 ? h + 'h ' + m + 'm' : m + 'm ' + (s % 60) + 's';
}
function renderHelm(helm, at) {
  const health = document.getElementById('helm-health');
  const failing = Object.entries(helm.checks).filter(([, c]) => !c.ok).map(([n, c]) => n + ': ' + c.reason);
  health.textContent = helm.ready ? 'ready' : 'not ready (' + failing.join('; ') + ')';
  health.className = helm.ready ? 'ok' : 'bad';
  document.getElementById('updated').textContent = 'updated ' + at;
}
function renderServices(services) {
  const cards = services.map((s) => {
    const card = el('div', undefined, 'card');
    card.dataset.service = s.service;
    card.appendChild(el('h3', s.service + ' (' + s.environment + ')'));
    const t = el('table');
    table(t, ['container', 'state', 'health', 'release', 'image', 'uptime', 'restarts'], s.containers.map((c) => [
      c.name, c.state, el('span', c.health, c.healthy ? 'ok' : 'bad'), c.release ?? '-', c.image, duration(c.uptime_s), c.restart_count,
    ]));
    card.appendChild(t);
    const doc = el('details');
    doc.appendChild(el('summary', s.rollback_doc === null ? 'no rollback document' : 'rollback document'));
    if (s.rollback_doc !== null) doc.appendChild(el('pre', s.rollback_doc));
    card.appendChild(doc);
    return card;
  });
  document.getElementById('services').replaceChildren(...(cards.length ? cards : [el('p', 'no services in scope')]));
}
function renderParked(parked) {
  const cards = parked.map((p) => {
    const card = el('div', undefined, 'card');
    card.dataset.approvalId = p.approval_id;
    card.appendChild(el('h3', p.action + ' ' + p.service + ' in ' + p.environment + ': ' + duration(p.time_left_s) + ' left'));
    card.appendChild(el('p', 'reason: ' + p.reason));
    const steps = el('ol');
    for (const s of p.steps) steps.appendChild(el('li', s));
    card.appendChild(steps);
    card.appendChild(el('pre', JSON.stringify(p.plan, null, 2), 'plan'));
    return card;
  });
  document.getElementById('parked').replaceChildren(...(cards.length ? cards : [el('p', 'nothing parked')]));
}
function renderRunLog(log) {
  const chain = document.getElementById('chain');
  chain.textContent = log.verified ? 'chain verified' : 'CHAIN NOT VERIFIED';
  chain.className = log.verified ? 'ok' : 'bad';
  document.getElementById('chain-problems').replaceChildren(...log.problems.map((p) => el('p', p, 'bad')));
  table(document.getElementById('runlog'), ['at', 'event', 'action', 'target', 'env', 'code', 'message'],
    log.entries.map((e) => [e.at, e.event, e.action ?? '', e.target ?? '', e.environment ?? '', e.code ?? '', e.message]));
}
function incidentRows(node, incidents, open) {
  const head = open ? ['since', 'open for', 'severity', 'kind', 'target', 'env', 'message']
    : ['closed', 'severity', 'kind', 'target', 'env', 'message', 'closed by'];
  const rows = incidents.map((i) => {
    const tr = row(open ? [i.opened_at, duration(i.open_for_s), el('span', i.severity, i.severity === 'critical' ? 'bad' : ''), i.kind, i.target ?? '', i.environment ?? '', i.message]
      : [i.closed_at, i.severity, i.kind, i.target ?? '', i.environment ?? '', i.message, i.closed_by ?? '']);
    tr.dataset.incidentKey = i.key;
    return tr;
  });
  node.replaceChildren(row(head, true), ...rows);
}
function renderMonitor(m) {
  const state = document.getElementById('monitor-state');
  if (m.reporting) {
    state.textContent = m.open.length ? m.open.length + ' open (monitor on ' + m.host + ', ' + m.at + ')' : 'none open (monitor on ' + m.host + ', ' + m.at + ')';
    state.className = m.open.length ? 'bad' : 'ok';
  } else {
    state.textContent = 'the monitor is silent: no incident report (it is not running, or stopped reporting)';
    state.className = 'bad';
  }
  incidentRows(document.getElementById('incidents'), m.open, true);
  incidentRows(document.getElementById('closed-incidents'), m.closed, false);
}
function renderAlerts(alerts) {
  table(document.getElementById('alerts'), ['at', 'severity', 'kind', 'target', 'message'],
    alerts.map((a) => [a.at, a.severity, a.kind, a.target ?? '', a.message]));
}
async function refresh() {
  try {
    const res = await fetch('/status.json', { cache: 'no-store' });
    if (!res.ok) throw new Error('status.json answered ' + res.status);
    const data = await res.json();
    renderHelm(data.helm, data.generated_at);
    document.getElementById('unavailable').replaceChildren(...data.unavailable.map((u) => el('p', 'not read: ' + u, 'bad')));
    renderMonitor(data.monitor);
    renderServices(data.services);
    renderParked(data.parked);
    renderRunLog(data.run_log);
    renderAlerts(data.alerts);
  } catch (err) {
    const health = document.getElementById('helm-health');
    health.textContent = 'unreachable: ' + err.message;
    health.className = 'bad';
  } finally {
    setTimeout(refresh, POLL_MS);
  }
}
refresh();
`;
