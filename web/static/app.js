// app.js: the live page. Events arrive by Server-Sent Events from
// /api/events (one JSON walk event per message, schema in
// resolver/src/events.rs); they are grouped by lookup, the selected
// lookup is drawn (figure.js) and tabled, and the controls call the API.
'use strict';

(() => {
  const MAX_LOOKUPS = 300;
  const $ = (id) => document.getElementById(id);
  const svg = $('figure');
  const lookups = new Map(); // id -> lookup, in arrival order
  let selected = null; // lookup id
  let cursor = null; // message shown up to (null: all, following live)
  let pending = false;

  // ---- the data ----------------------------------------------------------

  function lookupFor(ev) {
    let lookup = lookups.get(ev.lookup);
    if (!lookup) {
      lookup = { id: ev.lookup, steps: new Map(), markers: [], qname: ev.qname, qtype: ev.qtype, ordered: [] };
      lookups.set(ev.lookup, lookup);
      while (lookups.size > MAX_LOOKUPS) lookups.delete(lookups.keys().next().value);
    }
    return lookup;
  }

  function add(ev) {
    const lookup = lookupFor(ev);
    if (ev.step === 0) lookup.markers.push(ev);
    else lookup.steps.set(ev.step, ev);
    if (ev.step === 1) {
      lookup.qname = ev.qname;
      lookup.qtype = ev.qtype;
    }
    const steps = [...lookup.steps.values()].sort((a, b) => a.step - b.step);
    // Tier markers come right after the client's question.
    lookup.ordered = [...steps.filter((e) => e.step === 1), ...lookup.markers, ...steps.filter((e) => e.step > 1)];
    lookup.last = steps.length ? steps[steps.length - 1].step : 0;
    lookup.answer = steps.find((e) => e.to.role === 'client') || null;
    lookup.hit = steps.some((e) => e.step === 2 && e.kind === 'cache-hit');
    lookup.subtitle = subtitle(lookup);
    if ($('follow').checked && selected !== lookup.id) {
      selected = lookup.id;
      cursor = null;
    }
    schedule();
  }

  function subtitle(lookup) {
    const parts = [`lookup #${lookup.id}`];
    const answer = lookup.answer;
    if (lookup.hit) parts.push('answered from the cache');
    else parts.push(`${lookup.last} messages`);
    if (lookup.markers.length) parts.push(`${lookup.markers.length} tier${lookup.markers.length > 1 ? 's' : ''} skipped (cached)`);
    if (answer) {
      parts.push(answer.rcode || answer.kind.toUpperCase());
      if (answer.ms) parts.push(Figure.ms(answer.ms));
    } else {
      parts.push('in progress…');
    }
    return parts.join(' · ');
  }

  // ---- drawing -----------------------------------------------------------

  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      render();
    });
  }

  function render() {
    const lookup = lookups.get(selected) || null;
    const shown = lookup && cursor !== null && cursor < lookup.last ? cursor : null;
    Figure.draw(svg, lookup, shown);
    renderTable(lookup, shown);
    renderList();
    renderReplay(lookup, shown);
  }

  function cell(row, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
  }

  function renderTable(lookup, shown) {
    const body = $('steps').tBodies[0];
    body.replaceChildren();
    for (const ev of lookup ? lookup.ordered : []) {
      const row = document.createElement('tr');
      row.dataset.step = ev.step;
      row.dataset.kind = ev.kind;
      const step = ev.step === 0 ? 1 : ev.step;
      if (shown !== null && step > shown) row.className = 'future';
      else if (shown !== null && step === shown) row.className = 'current';
      if (ev.step === 0) row.classList.add('skipped');
      cell(row, ev.step === 0 ? '–' : String(ev.step), 'num');
      cell(row, `${ev.from.name || ev.from.role} → ${ev.to.name || ev.to.role}`);
      cell(row, `${ev.qname} ${ev.qtype}`);
      const back = ev.kind === 'query' ? '' : ev.detail || Figure.summary(ev);
      cell(row, back + (ev.ttl_left !== null && ev.ttl_left !== undefined && !/TTL/.test(back) ? ` (TTL ${ev.ttl_left} s left)` : ''));
      cell(row, ev.ms ? ev.ms.toFixed(2) : '', 'num');
      row.title = ev.records.join('\n');
      body.appendChild(row);
    }
  }

  function renderList() {
    const list = $('lookups');
    list.replaceChildren();
    const newest = [...lookups.values()].reverse();
    for (const lookup of newest) {
      const item = document.createElement('li');
      item.dataset.lookup = lookup.id;
      if (lookup.id === selected) item.setAttribute('aria-current', 'true');
      const button = document.createElement('button');
      button.type = 'button';
      const name = document.createElement('strong');
      name.textContent = `${lookup.qname} ${lookup.qtype}`;
      const info = document.createElement('span');
      info.textContent = lookup.subtitle.replace(/^lookup #\d+ · /, '');
      if (lookup.hit) item.classList.add('hit');
      button.append(name, info);
      button.addEventListener('click', () => {
        $('follow').checked = false;
        selected = lookup.id;
        cursor = null;
        schedule();
      });
      item.appendChild(button);
      list.appendChild(item);
    }
    $('empty').hidden = lookups.size > 0;
  }

  function renderReplay(lookup, shown) {
    const last = lookup ? lookup.last : 0;
    const at = shown === null ? last : shown;
    $('position').textContent = lookup ? `message ${at} of ${last}` : 'no lookup';
    $('back').disabled = !lookup || at <= 1;
    $('first').disabled = !lookup || at <= 1;
    $('forward').disabled = !lookup || at >= last;
    $('last').disabled = !lookup || at >= last;
    $('explain').textContent = lookup ? explain(lookup, at) : 'Every lookup the resolver makes appears here, drawn as in the textbook: ask a name on the right, or use dig.';
  }

  // One sentence on what the message at `step` means.
  function explain(lookup, step) {
    const ev = lookup.steps.get(step);
    if (!ev) return '';
    const n = `${step}.`;
    const from = ev.from.name;
    const to = ev.to.name;
    if (ev.from.role === 'client') {
      const skipped = lookup.markers.length ? ` The resolver's cache already knows ${lookup.markers.map((m) => m.detail.replace(/^delegation to (\S+) cached.*/, 'who serves $1')).join(', ')}, so it skips ${lookup.markers.length === 1 ? 'one tier' : `${lookup.markers.length} tiers`}.` : '';
      return `${n} The requesting host (${from}) asks its local DNS server: what is ${ev.qname} ${ev.qtype}?${skipped}`;
    }
    if (ev.to.role === 'client') {
      if (ev.kind === 'cache-hit') return `${n} The answer is in the resolver's cache (TTL ${ev.ttl_left} s left): no server is asked at all.`;
      return `${n} The resolver answers the host (${ev.rcode}) after ${Figure.ms(ev.ms) || 'no time'}, and caches what it learned.`;
    }
    switch (ev.kind) {
      case 'query':
        return `${n} The resolver asks ${to} (${Figure.TITLE[ev.to.role]}${ev.zone ? ` for ${ev.zone}` : ''}): ${ev.qname} ${ev.qtype}?`;
      case 'referral':
        return `${n} ${from} does not know the answer, but knows who does: ${ev.detail}. The resolver goes there next.`;
      case 'answer':
        return `${n} ${from} is authoritative for ${ev.zone || 'the zone'} and answers: ${ev.records.join('; ') || ev.detail}.`;
      case 'nxdomain':
        return `${n} ${from} says the name does not exist (NXDOMAIN).`;
      case 'nodata':
        return `${n} ${from} says the name exists but has no ${ev.qtype} records (NODATA).`;
      case 'cname':
        return `${n} ${from} answers with an alias: ${ev.detail}. The walk starts again for the canonical name.`;
      case 'timeout':
        return `${n} ${from} did not answer in time; the resolver tries another server.`;
      default:
        return `${n} ${from}: ${ev.detail || ev.kind}.`;
    }
  }

  // ---- replay ------------------------------------------------------------

  function step(delta) {
    const lookup = lookups.get(selected);
    if (!lookup) return;
    const at = cursor === null ? lookup.last : cursor;
    const next = Math.max(1, Math.min(lookup.last, at + delta));
    cursor = next >= lookup.last ? null : next;
    if (cursor !== null) $('follow').checked = false;
    schedule();
  }

  $('first').addEventListener('click', () => step(-Infinity));
  $('back').addEventListener('click', () => step(-1));
  $('forward').addEventListener('click', () => step(1));
  $('last').addEventListener('click', () => step(Infinity));
  document.addEventListener('keydown', (key) => {
    if (key.target instanceof HTMLInputElement || key.target instanceof HTMLSelectElement) return;
    if (key.key === 'ArrowLeft') step(-1);
    if (key.key === 'ArrowRight') step(1);
  });

  // ---- the controls ------------------------------------------------------

  async function post(path, body) {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(json.error || `${response.status} ${response.statusText}`);
    return json;
  }

  $('ask').addEventListener('submit', async (submit) => {
    submit.preventDefault();
    const name = $('ask-name').value.trim();
    if (!name) return;
    const out = $('ask-result');
    out.textContent = `asking ${name}…`;
    out.className = '';
    try {
      const result = await post('/api/ask', { name, type: $('ask-type').value });
      const records = result.answers.length ? result.answers.map(Figure.rdata).join(', ') : result.error || 'no records';
      out.textContent = `${result.rcode}: ${records}`;
      if (result.lookup !== null && result.lookup !== undefined && lookups.has(result.lookup)) {
        selected = result.lookup;
        cursor = null;
        schedule();
      }
    } catch (error) {
      out.textContent = error.message;
      out.className = 'error';
    }
  });

  $('flush').addEventListener('click', async () => {
    const out = $('flush-result');
    try {
      const result = await post('/api/flush', {});
      out.textContent = `cache flushed (${result.removed} entries): the next lookup walks from the root`;
      out.className = '';
    } catch (error) {
      out.textContent = error.message;
      out.className = 'error';
    }
  });

  $('follow').addEventListener('change', () => {
    if ($('follow').checked && lookups.size) {
      selected = [...lookups.keys()].pop();
      cursor = null;
      schedule();
    }
  });

  // ---- the stream --------------------------------------------------------

  const status = $('status');
  function connected(yes, text) {
    status.dataset.connected = yes ? 'true' : 'false';
    status.textContent = text;
  }

  const source = new EventSource('/api/events');
  source.addEventListener('open', () => connected(true, 'live'));
  source.addEventListener('error', () => connected(false, 'reconnecting…'));
  source.addEventListener('message', (message) => {
    try {
      add(JSON.parse(message.data));
    } catch (error) {
      connected(true, `a bad event was skipped (${error.message})`);
    }
  });
  source.addEventListener('resync', (message) => {
    const missed = JSON.parse(message.data).missed;
    if (missed === 0) {
      // The server restarted: what we hold belongs to another run.
      lookups.clear();
      selected = null;
    }
    $('notice').textContent = missed ? `This page fell behind and missed ${missed} events; some lookups are incomplete.` : 'The server restarted.';
    $('notice').hidden = false;
    schedule();
  });

  render();
})();
