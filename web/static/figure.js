// figure.js: one lookup drawn as the textbook's figure of the DNS
// (Kurose & Ross, section 2.4): the requesting host and the local DNS
// server (dnslab's resolver) bottom left, the root top left, the TLD top
// right, the authoritative servers bottom right (stacked when there are
// several), and a numbered arrow for every message.
//
// Stable hooks for tests and readers of the DOM: every arrow is
// <g data-step="N" data-kind="..." data-from="..." data-to="...">, every
// server box <g data-role="..." data-name="...">, a tier the cache spared
// carries data-skipped="true", a full cache hit draws #cache-hit with
// data-cache-hit="true".
'use strict';

const Figure = (() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const WIDTH = 1200;
  const HEIGHT = 760;
  const BOX_W = 340;
  const BOX_H = 96;
  const GAP = 16;
  // Where each kind of box goes (viewBox 1200 x 760).
  const CLIENT = { x: 170, y: 648, w: 290, h: BOX_H };
  const RESOLVER = { x: 170, y: 420, w: 290, h: BOX_H };
  // Root and TLD boxes stack down from the top; authoritative ones are
  // spread around the resolver's height, so that the lines to them fan
  // out with room for labels between.
  const STACKS = {
    root: { x: 40, top: 24, bottom: 300, centre: null, spread: 0 },
    tld: { x: 840, top: 24, bottom: 300, centre: null, spread: 0 },
    authoritative: { x: 840, top: 200, bottom: 750, centre: 468, spread: 200 },
  };
  const TITLE = {
    client: 'requesting host',
    resolver: 'local DNS server (dnslab)',
    root: 'root DNS server',
    tld: 'TLD DNS server',
    authoritative: 'authoritative DNS server',
  };
  // Arrow colours by what the message is.
  const GROUP = {
    query: 'query',
    referral: 'referral',
    answer: 'answer',
    nxdomain: 'negative',
    nodata: 'negative',
    cname: 'cname',
    'cache-hit': 'cache',
    timeout: 'error',
    servfail: 'error',
    lame: 'error',
  };

  function node(name, attrs, parent, text) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null) element.setAttribute(key, String(value));
    }
    if (text !== undefined) element.textContent = text;
    if (parent) parent.appendChild(element);
    return element;
  }

  // The data part of a master-file line ("gaia... 3600 IN A 192.0.2.12").
  function rdata(line) {
    const fields = line.trim().split(/\s+/);
    const type = fields.findIndex((f, i) => i >= 2 && fields[i - 1] === 'IN');
    return type >= 0 ? fields.slice(type + 1).join(' ') : line;
  }

  // What a message says, in a few words.
  function summary(ev) {
    switch (ev.kind) {
      case 'query':
        return `${ev.qname} ${ev.qtype}?`;
      case 'referral':
        return ev.detail.split(' (')[0] || 'referral';
      case 'answer': {
        if (ev.records.length === 0) return 'answer';
        const more = ev.records.length > 1 ? ` (+${ev.records.length - 1})` : '';
        return `answer ${rdata(ev.records[ev.records.length - 1])}${more}`;
      }
      case 'nxdomain':
        return 'NXDOMAIN: no such name';
      case 'nodata':
        return `NODATA: no ${ev.qtype} records`;
      case 'cname':
        return ev.detail || 'CNAME';
      case 'cache-hit':
        return ev.step === 0 ? 'not asked: cached' : 'from cache';
      case 'timeout':
        return 'no answer (timeout)';
      case 'lame':
        return ev.detail || 'lame answer';
      case 'servfail':
        return 'SERVFAIL';
      default:
        return ev.kind;
    }
  }

  function ms(value) {
    if (!value) return '';
    if (value < 0.1) return `${value.toFixed(2)} ms`;
    return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
  }

  // Shrinks a text's font until it is at most `width` wide (long names).
  function fit(text, width) {
    const length = text.getComputedTextLength();
    if (length > width) {
      const size = parseFloat(getComputedStyle(text).fontSize);
      text.style.fontSize = `${Math.floor((size * width) / length)}px`;
    }
    return text;
  }

  function isServer(end) {
    return end.role === 'root' || end.role === 'tld' || end.role === 'authoritative';
  }

  // One box per party: the client, the resolver, and each server in the
  // order it was first met, stacked by role.
  function place(lookup) {
    const boxes = new Map();
    const stacks = { root: [], tld: [], authoritative: [] };
    const skipped = new Map();
    let client = { role: 'client', name: '', addr: null };
    let resolver = { role: 'resolver', name: 'resolver', addr: null };
    for (const ev of lookup ? lookup.ordered : []) {
      for (const end of [ev.from, ev.to]) {
        if (end.role === 'client') client = end;
        else if (end.role === 'resolver') resolver = end;
        else if (isServer(end) && !stacks[end.role].some((s) => s.name === end.name)) {
          stacks[end.role].push(end);
        }
      }
      if (ev.step === 0 && isServer(ev.to)) skipped.set(`${ev.to.role} ${ev.to.name}`, ev);
    }
    boxes.set('client', { ...CLIENT, end: client, state: lookup ? '' : 'idle' });
    boxes.set('resolver', { ...RESOLVER, end: resolver, state: lookup ? '' : 'idle' });
    for (const [role, area] of Object.entries(STACKS)) {
      const ends = stacks[role].length ? stacks[role] : [{ role, name: '', addr: null }];
      const notes = ends.map((end) => (skipped.has(`${role} ${end.name}`) ? 28 : 0));
      const room = area.bottom - area.top - GAP * (ends.length - 1);
      const scale = Math.min(1, room / ends.reduce((sum, _, i) => sum + BOX_H + notes[i], 0));
      const heights = ends.map((_, i) => (BOX_H + notes[i]) * scale);
      const free = area.bottom - area.top - heights.reduce((a, b) => a + b, 0);
      const gap = Math.max(GAP, Math.min(area.spread, (free * 0.8) / Math.max(1, ends.length - 1)));
      const total = heights.reduce((a, b) => a + b, 0) + gap * (ends.length - 1);
      let y = area.centre === null ? area.top : Math.max(area.top, Math.min(area.bottom - total, area.centre - total / 2));
      ends.forEach((end, i) => {
        const key = `${role} ${end.name}`;
        const marker = skipped.get(key);
        const used = lookup && lookup.ordered.some((ev) => ev.step > 0 && (ev.to.name === end.name || ev.from.name === end.name) && (ev.to.role === role || ev.from.role === role));
        const state = marker ? 'skipped' : used ? '' : 'idle';
        const rank = ends.length === 1 ? 'only' : i === 0 ? 'top' : i === ends.length - 1 ? 'bottom' : 'middle';
        boxes.set(key, { x: area.x, y, w: BOX_W, h: heights[i], end, state, marker, rank });
        y += heights[i] + gap;
      });
    }
    return boxes;
  }

  function drawBox(layer, box) {
    const { end } = box;
    const g = node('g', {
      class: `box role-${end.role} ${box.state}`,
      'data-role': end.role,
      'data-name': end.name,
      'data-skipped': box.state === 'skipped' ? 'true' : null,
    }, layer);
    node('rect', { x: box.x, y: box.y, width: box.w, height: box.h, rx: 12 }, g);
    const small = box.h < 80;
    const title = TITLE[end.role];
    node('text', { class: 'title', x: box.x + 16, y: box.y + (small ? 24 : 30) }, g, title);
    const name = end.name || (end.role === 'client' ? 'a client' : '—');
    const room = box.w - 32;
    fit(node('text', { class: 'name', x: box.x + 16, y: box.y + (small ? 50 : 62) }, g, name), room);
    if (box.marker) {
      // What the cache knew instead: the referral this server would give.
      const m = box.marker;
      const child = (m.records[0] || '').split(/\s+/)[0] || (m.detail.match(/delegation to (\S+)/) || [])[1] || '';
      const ttl = m.ttl_left !== null && m.ttl_left !== undefined ? `, TTL ${m.ttl_left} s left` : '';
      const y = box.y + 88 * Math.min(1, box.h / 124);
      node('text', { class: 'note', x: box.x + 16, y }, g, 'not asked: cached referral');
      fit(node('text', { class: 'note', x: box.x + 16, y: y + 22 }, g, `to ${child}${ttl}`), room);
    } else if (end.addr && !small) {
      node('text', { class: 'addr', x: box.x + 16, y: box.y + 86 }, g, end.addr);
    }
  }

  function centre(box) {
    return { x: box.x + box.w / 2, y: box.y + box.h / 2 };
  }

  // Where the segment from the box's centre towards `to` leaves the box.
  function edge(box, to) {
    const c = centre(box);
    const dx = to.x - c.x;
    const dy = to.y - c.y;
    const sx = dx === 0 ? Infinity : box.w / 2 / Math.abs(dx);
    const sy = dy === 0 ? Infinity : box.h / 2 / Math.abs(dy);
    const s = Math.min(sx, sy);
    return { x: c.x + dx * s, y: c.y + dy * s };
  }

  // Where a message's line and label go, as multiples of the normal of
  // the line resolver -> peer: [line, label]. The question and the reply
  // of an exchange run side by side, each label in the space the figure
  // leaves free: the root's question to the right and reply to the left;
  // both of the TLD's to the upper left (the upper middle is empty); the
  // authoritative servers' questions above and replies below (see below);
  // the host's
  // question to the left and its answer to the right.
  function sides(peer, n, first, rank) {
    const toward = (yes) => (yes ? 1 : -1);
    switch (peer.role) {
      case 'root': {
        const left = toward(n.x < 0);
        return first ? [-left, -left] : [left, left];
      }
      case 'tld': {
        const upLeft = toward(n.y < 0);
        return first ? [upLeft, upLeft] : [-upLeft, upLeft];
      }
      case 'client': {
        const left = toward(n.x < 0);
        return first ? [left, left] : [-left, -left];
      }
      default: {
        // Questions run over, replies under; a stack's top server keeps
        // both labels above, its bottom one both below, so that the
        // wedges between the fanned-out lines stay clear.
        const above = toward(n.y < 0);
        const label = rank === 'top' ? above : rank === 'bottom' ? -above : first ? above : -above;
        return [first ? above : -above, label];
      }
    }
  }

  // One arrow: `index` of `count` messages on the same line (the same
  // peer, the same direction; a walk may ask the TLD server four times).
  function drawArrow(layer, boxes, ev, index, count) {
    const resolverBox = boxes.get('resolver');
    const peer = ev.from.role === 'resolver' ? ev.to : ev.from;
    const peerBox = peer.role === 'client' ? boxes.get('client') : boxes.get(`${peer.role} ${peer.name}`);
    if (!peerBox) return null;
    const p0 = edge(resolverBox, centre(peerBox));
    const p1 = edge(peerBox, centre(resolverBox));
    const length = Math.hypot(p1.x - p0.x, p1.y - p0.y) || 1;
    const d = { x: (p1.x - p0.x) / length, y: (p1.y - p0.y) / length };
    const n = { x: d.y, y: -d.x };
    // Questions on one side of the centre line, replies on the other.
    const first = ev.to.role !== 'resolver' ? peer.role !== 'client' : peer.role === 'client';
    const [lineSide, labelSide] = sides(peer, n, first, peerBox.rank);
    const lane = 9;
    const offset = lineSide * lane;
    const at = (t) => ({ x: p0.x + d.x * t * length + n.x * offset, y: p0.y + d.y * t * length + n.y * offset });
    const fromResolver = ev.from.role === 'resolver';
    const start = at(fromResolver ? 0.02 : 0.98);
    const end = at(fromResolver ? 0.97 : 0.03);
    // Where the number sits, as a fraction of the way from the resolver:
    // 38% from the sender; on the long line to the TLD further up, clear
    // of the authoritative servers'. Several messages on one line spread
    // out along it, each reply a little beyond its question.
    const [single, low, high] = peer.role === 'tld' ? [[0.5, 0.72], 0.3, 0.8] : [[0.38, 0.62], 0.22, 0.78];
    const t = count === 1
      ? single[fromResolver ? 0 : 1]
      : low + (first ? 0 : 0.08) + ((high - low - 0.08) * index) / (count - 1);
    const badge = at(t);
    const group = GROUP[ev.kind] || 'error';
    const g = node('g', {
      class: `arrow g-${group}`,
      'data-step': ev.step,
      'data-kind': ev.kind,
      'data-from': ev.from.name,
      'data-to': ev.to.name,
    }, layer);
    node('line', { x1: start.x, y1: start.y, x2: end.x, y2: end.y, 'marker-end': `url(#head-${group})` }, g);
    // The label beside the number, outwards (untangle() moves it further
    // when something is in the way).
    const out = { x: n.x * labelSide, y: n.y * labelSide };
    // Past the other line when the label is on its side; a reply whose
    // question's label is on the same side goes one line further out.
    const [, questionSide] = first ? [0, labelSide] : sides(peer, n, true, peerBox.rank);
    const clear = 26 + (lineSide === labelSide ? 0 : 2 * lane) + (!first && questionSide === labelSide ? 20 : 0);
    const spot = { x: badge.x + out.x * clear, y: badge.y + out.y * clear };
    const anchor = out.x > 0.35 ? 'start' : out.x < -0.35 ? 'end' : 'middle';
    const lines = [summary(ev)];
    const time = ms(ev.ms);
    if (ev.to.role === 'client' && time) lines.push(`${time} in all`);
    else if (ev.kind === 'cache-hit' && ev.ttl_left !== null) lines.push(`TTL ${ev.ttl_left} s left`);
    else if (time) lines.push(time);
    const top = out.y > 0.35 ? spot.y + 14 : out.y < -0.35 ? spot.y - 23 * (lines.length - 1) - 4 : spot.y - 11 * (lines.length - 1) + 6;
    const label = node('text', { class: 'label', x: spot.x, y: top, 'text-anchor': anchor }, g);
    lines.forEach((line, i) => {
      node('tspan', { x: spot.x, dy: i === 0 ? 0 : 23, class: i === 0 ? 'what' : 'time' }, label, line);
    });
    node('circle', { class: 'badge', cx: badge.x, cy: badge.y, r: 17 }, g);
    node('text', { class: 'number', x: badge.x, y: badge.y + 7, 'text-anchor': 'middle' }, g, ev.step);
    return { group: g, label, out, along: d, badge };
  }

  // Moves each label (in step order) to the nearest free spot outwards,
  // or sideways along its arrow, so that no text covers another, a box or
  // a number. Lines may pass under text: the text has a white halo. A
  // label with no free spot (a busy walk) is left out, its number stays,
  // and the table has it; the message being replayed is always labelled,
  // drawn on top.
  function untangle(svg, placed, cursor) {
    const pad = (r, p) => ({ x: r.x - p, y: r.y - p, w: r.width + 2 * p, h: r.height + 2 * p });
    const taken = [...svg.querySelectorAll('.box rect, .heading, .subheading, .badge, .cache-mark rect')]
      .map((e) => pad(e.getBBox(), 3));
    const inside = (r) => r.x >= 0 && r.y >= 0 && r.x + r.w <= WIDTH && r.y + r.h <= HEIGHT;
    const overlap = (a, b) => Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
    for (const item of placed) {
      const box = pad(item.label.getBBox(), 2);
      // The first free spot; failing that, the one covering the least.
      let chosen = null;
      let least = null;
      for (let r = 0; r <= 260 && !chosen; r += 8) {
        for (const s of r === 0 ? [0] : [0, 1, -1]) {
          const dx = item.out.x * r + item.along.x * s * r;
          const dy = item.out.y * r + item.along.y * s * r;
          const moved = { x: box.x + dx, y: box.y + dy, w: box.w, h: box.h };
          if (!inside(moved)) continue;
          const covered = taken.reduce((sum, t) => sum + overlap(t, moved), 0);
          if (covered === 0) {
            chosen = { dx, dy, moved };
            break;
          }
          if (!least || covered < least.covered) least = { dx, dy, moved, covered };
        }
      }
      if (!chosen && item.step !== cursor) {
        item.label.classList.add('unplaced');
        continue;
      }
      chosen = chosen || least || { dx: 0, dy: 0, moved: box };
      if (item.step === cursor) item.group.parentNode.appendChild(item.group);
      if (chosen.dx || chosen.dy) item.label.setAttribute('transform', `translate(${chosen.dx.toFixed(1)} ${chosen.dy.toFixed(1)})`);
      taken.push(chosen.moved);
      // A label pushed away from its number gets a thin line back to it.
      if (Math.hypot(chosen.dx, chosen.dy) > 30) {
        const m = chosen.moved;
        const to = { x: Math.max(m.x, Math.min(m.x + m.w, item.badge.x)), y: Math.max(m.y, Math.min(m.y + m.h, item.badge.y)) };
        const leader = node('line', { class: 'leader', x1: item.badge.x, y1: item.badge.y, x2: to.x, y2: to.y });
        item.group.insertBefore(leader, item.group.firstChild);
      }
    }
  }

  function drawDefs(svg) {
    const defs = node('defs', {}, svg);
    for (const group of new Set(Object.values(GROUP))) {
      const marker = node('marker', {
        id: `head-${group}`, viewBox: '0 0 10 10', refX: 9, refY: 5,
        markerWidth: 5, markerHeight: 5, orient: 'auto-start-reverse',
      }, defs);
      node('path', { d: 'M0,0 L10,5 L0,10 z', class: `head g-${group}` }, marker);
    }
  }

  // Draws `lookup` (null: the empty figure) up to message `cursor`
  // (null: all of it).
  function draw(svg, lookup, cursor) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    drawDefs(svg);
    const boxes = place(lookup);
    const boxLayer = node('g', { class: 'boxes' }, svg);
    for (const box of boxes.values()) drawBox(boxLayer, box);
    // The question and its outcome, between the root and the TLD.
    const title = (cls, y, text) => fit(node('text', { class: cls, x: 610, y, 'text-anchor': 'middle' }, svg, text), 440);
    if (!lookup) {
      title('heading', 52, 'No lookup yet');
      title('subheading', 86, 'ask on the right, or use dig');
      return;
    }
    title('heading', 52, `${lookup.qname} ${lookup.qtype}`);
    const answer = lookup.answer;
    const outcome = answer ? [answer.rcode, ms(answer.ms)].filter(Boolean).join(' in ') : 'in progress…';
    const messages = lookup.hit ? 'from the cache' : `${lookup.last} messages`;
    title('subheading', 86, `lookup #${lookup.id} · ${messages} · ${outcome}`);
    const arrows = node('g', { class: 'arrows' }, svg);
    const placed = [];
    const steps = lookup.ordered.filter((ev) => ev.step > 0);
    const lineOf = (ev) => {
      const outgoing = ev.from.role === 'resolver';
      const peer = outgoing ? ev.to : ev.from;
      return `${peer.role} ${peer.name} ${outgoing}`;
    };
    const counts = new Map();
    for (const ev of steps) counts.set(lineOf(ev), (counts.get(lineOf(ev)) || 0) + 1);
    const seen = new Map();
    for (const ev of steps) {
      const line = lineOf(ev);
      const index = seen.get(line) || 0;
      seen.set(line, index + 1);
      const drawn = drawArrow(arrows, boxes, ev, index, counts.get(line));
      if (drawn) placed.push({ ...drawn, step: ev.step });
    }
    const hit = lookup.ordered.find((ev) => ev.step === 2 && ev.kind === 'cache-hit');
    let mark = null;
    if (hit) {
      const g = node('g', { id: 'cache-hit', class: 'cache-mark', 'data-cache-hit': 'true' }, svg);
      const x = RESOLVER.x + RESOLVER.w + 24;
      node('rect', { x, y: RESOLVER.y + 6, width: 240, height: 84, rx: 12 }, g);
      node('text', { class: 'what', x: x + 16, y: RESOLVER.y + 40 }, g, 'from cache');
      node('text', { class: 'time', x: x + 16, y: RESOLVER.y + 72 }, g, `TTL ${hit.ttl_left} s left`);
      mark = g;
    }
    // Labels are placed with every arrow shown, so that they keep their
    // places while a replay reveals the arrows one by one.
    untangle(svg, placed, cursor);
    for (const { group, label, step } of placed) {
      if (cursor !== null && step > cursor) group.classList.add('future');
      else if (cursor === step) {
        group.classList.add('current');
        // The message being replayed: its label on a highlight.
        const b = label.getBBox();
        const highlight = node('rect', {
          class: 'highlight', x: b.x - 6, y: b.y - 3, width: b.width + 12, height: b.height + 6, rx: 6,
          transform: label.getAttribute('transform'),
        });
        group.insertBefore(highlight, label);
      }
    }
    if (mark && cursor !== null && cursor < 2) mark.classList.add('future');
  }

  return { draw, summary, ms, rdata, TITLE };
})();
