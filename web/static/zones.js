// zones.js: the "Zone transfers" list of the live page. The servers'
// NOTIFY and transfers (GET /api/transfers, newest first, schema in
// web/src/zones.rs) are read every two seconds and shown as a table;
// the section stays hidden while there are none (a page without
// authoritative servers behind it).
'use strict';

(() => {
  const EVERY_MS = 2000;
  const section = document.getElementById('zones');
  const body = document.getElementById('transfers').tBodies[0];

  function time(ms) {
    return new Date(ms).toLocaleTimeString([], { hour12: false });
  }

  function serial(entry) {
    if (entry.serial === null || entry.serial === undefined) return '';
    if (entry.old_serial === null || entry.old_serial === undefined) return String(entry.serial);
    return `${entry.old_serial} → ${entry.serial}`;
  }

  function records(entry) {
    if (entry.error) return entry.error;
    if (entry.records === null || entry.records === undefined) return '';
    const what = entry.kind === 'IXFR' ? 'change' : 'record';
    return `${entry.records} ${what}${entry.records === 1 ? '' : 's'}`;
  }

  function cell(row, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
  }

  function render(entries) {
    body.replaceChildren();
    for (const entry of entries) {
      const row = document.createElement('tr');
      row.dataset.kind = entry.kind;
      if (entry.kind === 'failed') row.className = 'error';
      cell(row, time(entry.at_ms));
      cell(row, entry.kind, 'kind');
      cell(row, entry.zone);
      cell(row, `${entry.from} → ${entry.to}`);
      cell(row, serial(entry), 'num');
      cell(row, records(entry));
      cell(row, entry.ms === null || entry.ms === undefined ? '' : entry.ms.toFixed(1), 'num');
      body.appendChild(row);
    }
    section.hidden = entries.length === 0;
  }

  async function refresh() {
    try {
      const response = await fetch('/api/transfers');
      if (response.ok) render((await response.json()).events);
    } catch (_) {
      // The server is gone for now; the walk's status line says so.
    }
    setTimeout(refresh, EVERY_MS);
  }

  refresh();
})();
