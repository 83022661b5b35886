// The HTML fleet report's script (inline; the page's Content-Security-Policy names its hash).
//
// It reads three JSON blocks: the fleet (labels, vocabularies, profiles, controls, totals), the
// heatmap (host names, profiles, one status character per host and control) and the host details
// (one JSON line per host, parsed only when that host is shown). Every value that came from a
// snapshot is hostile, so data reaches the page only as text: textContent on created elements and
// canvas fillText, never markup.
(function () {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const readJson = (id) => JSON.parse($(id).textContent);

  const F = readJson('hb-data-fleet');
  const H = readJson('hb-data-hosts');
  const L = F.labels;
  const NC = F.controls.length;
  const NH = H.names.length;

  const NA = 255;
  const ERR = 7;
  const STATUS = new Map(F.statuses.map((s, i) => [s.id, i]));
  const UNEXPECTED = STATUS.get('unexpected');
  const COMPLIANT = STATUS.get('compliant');
  const FINDING = F.statuses.map((s) => s.finding);
  // The statuses a host can have as its worst: compliant and the findings.
  const WORST = F.statuses.map((s, i) => i === COMPLIANT || s.finding);
  const ROLES = new Map(F.roles.map((r) => [r.id, r]));
  const CATEGORIES = new Map(F.categories.map((c) => [c.id, c]));
  const TIERS = new Map(F.tiers.map((t) => [t.id, t]));

  // One byte per cell: a status index, or NA for a control outside the host's profile.
  const cells = new Uint8Array(NH * NC);
  for (let i = 0; i < cells.length; i++) {
    const ch = H.cells.charCodeAt(i) - 48;
    cells[i] = ch >= 0 && ch < F.statuses.length ? ch : NA;
  }
  const worst = new Uint8Array(NH);
  const loose = new Uint8Array(NH);
  for (let h = 0; h < NH; h++) {
    const ch = H.worst.charCodeAt(h) - 48;
    worst[h] = ch >= 0 && ch < F.statuses.length ? ch : ERR;
    loose[h] = H.loose.charCodeAt(h) === 49 ? 1 : 0;
  }
  let lowerNames = null;

  const css = getComputedStyle(document.documentElement);
  const cssVar = (name) => css.getPropertyValue(name).trim();
  const PALETTE = F.statuses.map((s) => cssVar('--st-' + s.id));
  const NA_COLOUR = cssVar('--st-na');
  const ERR_COLOUR = cssVar('--st-error');
  const BG = cssVar('--bg');
  const FG = cssVar('--fg');
  const MUTED = cssVar('--muted');
  const LINE = cssVar('--line');
  const ACCENT = cssVar('--accent');

  const fmt = (template, values) =>
    template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  const hostName = (h) => H.names[h] || L.unnamed;
  const statusClass = (s) => (s === ERR ? 'st-error' : s === NA ? 'st-na' : 'st-' + F.statuses[s].id);
  const statusLabel = (s) => (s === ERR ? L.error : s === NA ? L.not_applicable : F.statuses[s].name);

  function badge(s) {
    return el('span', 'hb-badge ' + statusClass(s), statusLabel(s));
  }

  function swatch(s) {
    const sw = el('span', 'hb-sw ' + statusClass(s));
    sw.setAttribute('aria-hidden', 'true');
    return sw;
  }

  const controlLabel = (c) => F.controls[c].id + ' ' + F.controls[c].title;

  // ---- state and filters ----

  const state = { role: '', tier: '', category: '', status: '', search: '', host: -1, control: -1 };
  let shownHosts = [];
  let shownControls = [];

  // The status filter. A worst status (as in the fleet totals: compliant or a finding) is taken
  // over the shown controls and the unexpected items no control governs, so with every control
  // shown it selects the hosts the totals count. `has-…` (waived, manual) and `finding` select
  // the hosts with at least one shown control in that status.
  function matchesStatus(h) {
    const s = state.status;
    if (s === 'error') return worst[h] === ERR;
    if (worst[h] === ERR) return false;
    const row = h * NC;
    if (s === 'finding' || s.startsWith('has-')) {
      const want = s === 'finding' ? -1 : STATUS.get(s.slice(4));
      if (loose[h] && (want === -1 || want === UNEXPECTED)) return true;
      for (const c of shownControls) {
        const v = cells[row + c];
        if (v !== NA && (want === -1 ? FINDING[v] : v === want)) return true;
      }
      return false;
    }
    let w = loose[h] ? UNEXPECTED : COMPLIANT;
    for (const c of shownControls) {
      const v = cells[row + c];
      if (v !== NA && FINDING[v] && v > w) w = v;
    }
    return w === STATUS.get(s);
  }

  function applyFilters() {
    shownControls = [];
    for (let c = 0; c < NC; c++) {
      const k = F.controls[c];
      if ((!state.tier || k.tier === state.tier) && (!state.category || k.category === state.category)) {
        shownControls.push(c);
      }
    }
    const query = state.search.trim().toLowerCase();
    if (query && lowerNames === null) lowerNames = H.names.map((n) => n.toLowerCase());
    shownHosts = [];
    for (let h = 0; h < NH; h++) {
      if (state.role) {
        const p = H.profiles[h];
        if (p < 0 || F.profiles[p].role !== state.role) continue;
      }
      if (query && !lowerNames[h].includes(query)) continue;
      if (state.status && !matchesStatus(h)) continue;
      shownHosts.push(h);
    }
    $('hb-shown-hosts').textContent = String(shownHosts.length);
    $('hb-shown-controls').textContent = String(shownControls.length);
    renderHostList();
    renderControls();
    layout();
  }

  function option(value, label) {
    const o = el('option', null, label);
    o.value = value;
    return o;
  }

  function fillSelect(id, entries) {
    const select = $(id);
    select.replaceChildren(option('', L.all));
    for (const [value, label] of entries) select.append(option(value, label));
  }

  function setupFilters() {
    const used = (vocabulary, ids) => vocabulary.filter((v) => ids.has(v.id)).map((v) => [v.id, v.name]);
    fillSelect('hb-f-role', used(F.roles, new Set(F.profiles.map((p) => p.role))));
    fillSelect('hb-f-tier', used(F.tiers, new Set(F.controls.map((c) => c.tier))));
    fillSelect('hb-f-category', used(F.categories, new Set(F.controls.map((c) => c.category))));
    const status = $('hb-f-status');
    const group = (label, entries) => {
      const g = el('optgroup');
      g.label = label;
      for (const [value, text] of entries) g.append(option(value, text));
      status.append(g);
    };
    status.replaceChildren(option('', L.all));
    group(
      L.worst_status,
      F.statuses.filter((s, i) => WORST[i]).map((s) => [s.id, s.name]).concat([['error', L.error]]),
    );
    group(
      L.has_status,
      [['finding', L.any_finding]].concat(F.statuses.filter((s, i) => !WORST[i]).map((s) => ['has-' + s.id, s.name])),
    );
    const bind = (id, key) =>
      $(id).addEventListener('change', (e) => {
        state[key] = e.target.value;
        applyFilters();
      });
    bind('hb-f-role', 'role');
    bind('hb-f-tier', 'tier');
    bind('hb-f-category', 'category');
    bind('hb-f-status', 'status');
    let timer = 0;
    $('hb-search').addEventListener('input', (e) => {
      clearTimeout(timer);
      const value = e.target.value;
      timer = setTimeout(() => {
        state.search = value;
        applyFilters();
      }, 120);
    });
    $('hb-f-reset').addEventListener('click', () => {
      for (const id of ['hb-f-role', 'hb-f-tier', 'hb-f-category', 'hb-f-status', 'hb-search']) $(id).value = '';
      Object.assign(state, { role: '', tier: '', category: '', status: '', search: '' });
      applyFilters();
    });
  }

  function setStatusFilter(value) {
    $('hb-f-status').value = value;
    state.status = value;
    applyFilters();
  }

  // ---- totals, legend, controls table ----

  function chip(tagName, s, label, count) {
    const c = el(tagName, 'hb-chip');
    c.append(swatch(s), el('span', null, label));
    if (count !== undefined) c.append(el('b', null, count));
    return c;
  }

  function renderTotals() {
    const box = $('hb-totals');
    const sum = F.summary;
    F.statuses.forEach((s, i) => {
      if (!WORST[i] && !sum.hosts_per_status[i]) return;
      const c = chip('button', i, s.name, sum.hosts_per_status[i]);
      c.type = 'button';
      c.addEventListener('click', () => setStatusFilter(s.id));
      box.append(c);
    });
    const e = chip('button', ERR, L.error, sum.errors);
    e.type = 'button';
    e.addEventListener('click', () => setStatusFilter('error'));
    box.append(e);
    const audited = el('span', 'hb-chip');
    audited.append(el('span', null, L.audited), el('b', null, sum.audited + ' / ' + sum.hosts));
    box.append(audited);

    const legend = $('hb-legend');
    F.statuses.forEach((s, i) => legend.append(chip('span', i, s.name)));
    legend.append(chip('span', NA, L.not_applicable), chip('span', ERR, L.error));

    $('hb-meta-counts').textContent = fmt(L.meta_counts, {
      hosts: NH,
      profiles: F.profiles.length,
      controls: NC,
    });
    $('hb-all-hosts').textContent = String(NH);
    $('hb-all-controls').textContent = String(NC);
  }

  function renderControls() {
    const failing = new Uint32Array(NC);
    for (const h of shownHosts) {
      const row = h * NC;
      for (const c of shownControls) {
        const v = cells[row + c];
        if (v !== NA && FINDING[v]) failing[c]++;
      }
    }
    const body = $('hb-controls-body');
    const rows = document.createDocumentFragment();
    for (const c of shownControls) {
      const k = F.controls[c];
      const counts = F.summary.control_hosts[c] || [];
      const fleetFailing = counts.reduce((n, v, i) => n + (FINDING[i] ? v : 0), 0);
      const tr = el('tr');
      tr.dataset.control = k.id;
      const tier = TIERS.get(k.tier);
      const tierText = (tier ? tier.name : k.tier) + (k.short_term ? ' · ' + L.short_term : '');
      const category = CATEGORIES.get(k.category);
      tr.append(
        el('td', 'hb-mono hb-id', k.id),
        el('td', null, k.title),
        el('td', null, category ? category.name : k.category),
        el('td', null, tierText),
        el('td', 'hb-num', fleetFailing),
        el('td', 'hb-num', failing[c]),
      );
      const per = el('td');
      const chips = el('span', 'hb-chips');
      counts.forEach((n, i) => {
        if (n > 0) chips.append(chip('span', i, F.statuses[i].name, n));
      });
      per.append(chips);
      tr.append(per);
      rows.append(tr);
    }
    body.replaceChildren(rows);
  }

  // ---- host list ----

  const LIST_LIMIT = 500;

  function renderHostList() {
    const list = $('hb-hostlist');
    const items = document.createDocumentFragment();
    const n = Math.min(shownHosts.length, LIST_LIMIT);
    for (let i = 0; i < n; i++) {
      const h = shownHosts[i];
      const b = el('button', 'hb-host');
      b.type = 'button';
      b.dataset.host = String(h);
      b.title = statusLabel(worst[h]);
      if (h === state.host) b.setAttribute('aria-current', 'true');
      b.append(swatch(worst[h]), el('span', null, hostName(h)));
      const li = el('li');
      li.append(b);
      items.append(li);
    }
    list.replaceChildren(items);
    const more = $('hb-hostlist-more');
    more.hidden = shownHosts.length <= n;
    more.textContent = fmt(L.more_hosts, { n: shownHosts.length - n });
  }

  function markCurrentHost() {
    for (const b of $('hb-hostlist').querySelectorAll('button.hb-host')) {
      if (Number(b.dataset.host) === state.host) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    }
  }

  // ---- heatmap ----

  const heat = $('hb-heat');
  const scroller = $('hb-scroll');
  const spacer = $('hb-spacer');
  const canvas = $('hb-canvas');
  const ctx = canvas.getContext('2d');
  const GUTTER = 210;
  const HEADER = 96;
  const FONT = getComputedStyle(document.body).fontFamily;
  let rowH = 16;
  let colW = 12;
  let queued = false;

  function layout() {
    rowH = Number($('hb-zoom').value) || 16;
    const nC = shownControls.length;
    const nH = shownHosts.length;
    const room = heat.clientWidth - GUTTER - 20;
    colW = Math.max(4, Math.min(24, Math.floor(room / Math.max(1, nC))));
    const full = HEADER + rowH * Math.max(1, nH) + 20;
    heat.style.height = Math.round(Math.min(Math.max(window.innerHeight * 0.7, 260), full)) + 'px';
    spacer.style.width = GUTTER + colW * nC + 'px';
    spacer.style.height = HEADER + rowH * nH + 'px';
    const dpr = window.devicePixelRatio || 1;
    const w = scroller.clientWidth;
    const h = scroller.clientHeight;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.width = w + 'px';
    canvas.style.height = h + 'px';
    // The geometry, for tools that point at a cell.
    Object.assign(scroller.dataset, { gutter: GUTTER, header: HEADER, row: rowH, col: colW });
    draw();
  }

  function queueDraw() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(draw);
  }

  function fitText(text, width) {
    let t = text.length > 80 ? text.slice(0, 80) : text;
    if (ctx.measureText(t).width <= width && t === text) return t;
    while (t.length > 1 && ctx.measureText(t + '…').width > width) t = t.slice(0, -1);
    return t + '…';
  }

  function draw() {
    queued = false;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const W = canvas.width / dpr;
    const Hc = canvas.height / dpr;
    const sx = scroller.scrollLeft;
    const sy = scroller.scrollTop;
    const nC = shownControls.length;
    const nH = shownHosts.length;
    const gap = colW >= 6 && rowH >= 6 ? 1 : 0;
    ctx.fillStyle = BG;
    ctx.fillRect(0, 0, W, Hc);

    const c0 = Math.max(0, Math.floor(sx / colW));
    const c1 = Math.min(nC, Math.ceil((sx + W - GUTTER) / colW));
    const r0 = Math.max(0, Math.floor(sy / rowH));
    const r1 = Math.min(nH, Math.ceil((sy + Hc - HEADER) / rowH));
    let selectedRow = -1;
    for (let r = r0; r < r1; r++) {
      const h = shownHosts[r];
      const y = HEADER + r * rowH - sy;
      if (h === state.host) selectedRow = r;
      if (worst[h] === ERR) {
        ctx.fillStyle = ERR_COLOUR;
        ctx.fillRect(GUTTER + c0 * colW - sx, y, (c1 - c0) * colW - gap, rowH - gap);
        continue;
      }
      const row = h * NC;
      for (let c = c0; c < c1; c++) {
        const v = cells[row + shownControls[c]];
        ctx.fillStyle = v === NA ? NA_COLOUR : PALETTE[v];
        ctx.fillRect(GUTTER + c * colW - sx, y, colW - gap, rowH - gap);
      }
    }

    // The host gutter: each host's worst status, and its name when rows are tall enough.
    ctx.fillStyle = BG;
    ctx.fillRect(0, HEADER, GUTTER, Hc - HEADER);
    ctx.font = '12px ' + FONT;
    ctx.textBaseline = 'middle';
    for (let r = r0; r < r1; r++) {
      const h = shownHosts[r];
      const y = HEADER + r * rowH - sy;
      if (r === selectedRow) {
        ctx.fillStyle = '#cfe0f1';
        ctx.fillRect(0, y, GUTTER, rowH);
      }
      ctx.fillStyle = worst[h] === ERR ? ERR_COLOUR : PALETTE[worst[h]];
      ctx.fillRect(GUTTER - 12, y, 6, Math.max(1, rowH - gap));
      if (rowH >= 12) {
        ctx.fillStyle = FG;
        ctx.fillText(fitText(hostName(h), GUTTER - 24), 6, y + rowH / 2);
      }
    }

    // The control header: ids written upwards, when columns are wide enough.
    ctx.fillStyle = BG;
    ctx.fillRect(0, 0, W, HEADER);
    ctx.save();
    ctx.beginPath();
    ctx.rect(GUTTER, 0, W - GUTTER, Hc);
    ctx.clip();
    if (colW >= 9) {
      ctx.font = Math.min(11, colW - 1) + 'px ' + FONT;
      ctx.textBaseline = 'middle';
      for (let c = c0; c < c1; c++) {
        const x = GUTTER + c * colW - sx + (colW - gap) / 2;
        ctx.save();
        ctx.translate(x, HEADER - 4);
        ctx.rotate(-Math.PI / 2);
        ctx.fillStyle = shownControls[c] === state.control ? ACCENT : FG;
        ctx.fillText(fitText(F.controls[shownControls[c]].id, HEADER - 8), 0, 0);
        ctx.restore();
      }
    }
    ctx.strokeStyle = ACCENT;
    ctx.lineWidth = 2;
    if (selectedRow >= 0) {
      ctx.strokeRect(GUTTER - sx + 1, HEADER + selectedRow * rowH - sy, nC * colW - 2, rowH);
    }
    const sc = shownControls.indexOf(state.control);
    if (sc >= 0 && selectedRow >= 0) {
      ctx.strokeRect(GUTTER + sc * colW - sx - 1, HEADER + selectedRow * rowH - sy - 1, colW + 1, rowH + 1);
    }
    ctx.restore();

    ctx.fillStyle = MUTED;
    ctx.font = '12px ' + FONT;
    ctx.textBaseline = 'alphabetic';
    ctx.fillText(L.controls_axis, 6, HEADER - 26);
    ctx.fillText(L.hosts_axis, 6, HEADER - 8);
    ctx.fillStyle = LINE;
    ctx.fillRect(0, HEADER - 1, W, 1);
    ctx.fillRect(GUTTER - 4, 0, 1, Hc);
    if (nH === 0) {
      ctx.fillStyle = MUTED;
      ctx.fillText(L.no_hosts, GUTTER + 8, HEADER + 20);
    }
  }

  function hit(event) {
    const box = scroller.getBoundingClientRect();
    const x = event.clientX - box.left;
    const y = event.clientY - box.top;
    if (x < 0 || y < 0 || x >= scroller.clientWidth || y >= scroller.clientHeight) return null;
    const col = x >= GUTTER ? Math.floor((x - GUTTER + scroller.scrollLeft) / colW) : -1;
    const row = y >= HEADER ? Math.floor((y - HEADER + scroller.scrollTop) / rowH) : -1;
    return {
      host: row >= 0 && row < shownHosts.length ? shownHosts[row] : -1,
      control: col >= 0 && col < shownControls.length ? shownControls[col] : -1,
    };
  }

  function cellStatus(h, c) {
    return worst[h] === ERR ? ERR : cells[h * NC + c];
  }

  function setupHeatmap() {
    scroller.addEventListener('scroll', queueDraw, { passive: true });
    window.addEventListener('resize', layout);
    $('hb-zoom').addEventListener('change', layout);
    scroller.addEventListener('mousemove', (e) => {
      const at = hit(e);
      const parts = [];
      if (at && at.host >= 0) parts.push(hostName(at.host));
      if (at && at.control >= 0) parts.push(controlLabel(at.control));
      if (at && at.host >= 0 && at.control >= 0) parts.push(statusLabel(cellStatus(at.host, at.control)));
      else if (at && at.host >= 0) parts.push(statusLabel(worst[at.host]));
      $('hb-hover').textContent = parts.length ? parts.join(' · ') : L.heatmap_hint;
    });
    scroller.addEventListener('click', (e) => {
      const at = hit(e);
      if (at && at.host >= 0) selectHost(at.host, at.control);
    });
    $('hb-hostlist').addEventListener('click', (e) => {
      const b = e.target.closest('button.hb-host');
      if (b) selectHost(Number(b.dataset.host), -1);
    });
  }

  // ---- host detail ----

  let detailText = null;
  let detailStarts = null;

  function detailOf(h) {
    if (detailStarts === null) {
      detailText = $('hb-data-detail').textContent;
      detailStarts = new Float64Array(NH + 1);
      let pos = 0;
      for (let i = 0; i < NH; i++) {
        detailStarts[i] = pos;
        const end = detailText.indexOf('\n', pos);
        pos = end < 0 ? detailText.length : end + 1;
      }
      detailStarts[NH] = pos;
    }
    return JSON.parse(detailText.slice(detailStarts[h], detailStarts[h + 1]));
  }

  function facts(pairs) {
    const dl = el('dl', 'hb-facts');
    for (const [label, value, className] of pairs) {
      if (value === null || value === undefined || value === '') continue;
      dl.append(el('dt', null, label), el('dd', className || null, value));
    }
    return dl;
  }

  function table(headers, rows) {
    const wrap = el('div', 'hb-table-wrap');
    const t = el('table', 'hb-table');
    const head = el('tr');
    for (const h of headers) head.append(el('th', null, h));
    const thead = el('thead');
    thead.append(head);
    const tbody = el('tbody');
    for (const cellsOfRow of rows) {
      const tr = el('tr');
      for (const cell of cellsOfRow) tr.append(cell);
      tbody.append(tr);
    }
    t.append(thead, tbody);
    wrap.append(t);
    return wrap;
  }

  function td(text, className) {
    return el('td', className, text);
  }

  function findingRows(findings) {
    return findings.map((f) => {
      const status = el('td');
      status.append(badge(STATUS.get(f.status)));
      const actual = f.actual === null ? td(L.absent) : td(f.actual, 'hb-mono');
      const where = el('td', 'hb-mono');
      where.append(el('span', null, f.profile_line === null ? L.catalog_default : f.profile_line));
      where.append(el('span', 'hb-src', L.catalog + ': ' + f.catalog_line));
      return [status, td(f.kind, 'hb-mono'), td(f.target, 'hb-mono'), td(f.expected, 'hb-mono'), actual, td(f.note), where];
    });
  }

  function controlBlock(rec) {
    const k = F.controls[rec.control];
    const box = el('article', 'hb-ctl');
    box.dataset.control = k ? k.id : '';
    box.append(el('h4', null, k ? k.id + ' ' + k.title : String(rec.control)));
    const meta = el('p', 'hb-ctl-meta');
    meta.append(badge(STATUS.get(rec.status)));
    if (rec.settings > 0) meta.append(el('span', null, fmt(L.compliant_of, { ok: rec.compliant, n: rec.settings })));
    if (k) {
      const category = CATEGORIES.get(k.category);
      const tier = TIERS.get(k.tier);
      meta.append(el('span', null, category ? category.name : k.category), el('span', null, tier ? tier.name : k.tier));
      if (k.short_term) meta.append(el('span', null, L.short_term));
    }
    box.append(meta);
    const remarks = facts([
      [L.waiver, rec.waiver],
      [L.attestation, rec.attestation],
      [L.notes, rec.notes.join('\n')],
    ]);
    if (remarks.childElementCount) box.append(remarks);
    if (rec.findings.length) {
      box.append(
        table([L.status, L.kind, L.target, L.expected, L.actual, L.note, L.where], findingRows(rec.findings)),
      );
    }
    return box;
  }

  function renderDetail() {
    const h = state.host;
    const d = detailOf(h);
    const box = $('hb-detail');
    const parts = document.createDocumentFragment();

    const title = el('h3');
    title.append(el('span', null, d.host || L.unnamed), document.createTextNode(' '), badge(worst[h]));
    parts.append(title);

    const profile = d.profile !== null && d.profile >= 0 ? F.profiles[d.profile] : null;
    const role = profile ? ROLES.get(profile.role) : null;
    parts.append(
      facts([
        [L.snapshot, d.snapshot, 'hb-mono'],
        [L.profile, profile ? profile.name + ' — ' + (role ? role.name : profile.role) + ' — ' + profile.platform : L.no_profile],
        [L.profile_file, profile ? profile.file : null, 'hb-mono'],
        [L.collected_at, d.collected_at],
      ]),
    );

    if (d.error !== null) {
      const p = el('p', 'hb-error');
      p.setAttribute('role', 'alert');
      p.append(el('strong', null, L.could_not_audit), document.createTextNode(' '), el('span', null, d.error));
      parts.append(p);
    } else {
      const counts = el('p', 'hb-chips');
      counts.append(el('span', null, L.settings_per_status + ':'));
      d.settings.forEach((n, i) => {
        if (n > 0) counts.append(chip('span', i, F.statuses[i].name, n));
      });
      parts.append(counts);
    }

    const focus = state.control;
    let focused = null;
    if (focus >= 0 && !d.controls.some((c) => c.control === focus) && d.error === null) {
      const p = el('p', 'hb-ctl hb-focus');
      p.append(el('span', null, controlLabel(focus) + ': '), badge(cellStatus(h, focus)));
      parts.append(p);
      focused = p;
    }
    for (const rec of d.controls) {
      const block = controlBlock(rec);
      if (rec.control === focus) {
        block.classList.add('hb-focus');
        focused = block;
      }
      parts.append(block);
    }
    if (d.error === null && d.compliant > 0) {
      parts.append(el('p', 'hb-hint', fmt(L.compliant_controls, { n: d.compliant })));
    }

    if (d.unexpected.length) {
      parts.append(el('h4', null, L.unexpected_items));
      const rows = d.unexpected.map((u) => {
        const k = u.control === null ? null : F.controls[u.control];
        return [td(u.kind, 'hb-mono'), td(u.what, 'hb-mono'), td(k ? k.id : '—', 'hb-mono'), td(u.note)];
      });
      parts.append(table([L.kind, L.what, L.control, L.note], rows));
    }

    box.replaceChildren(parts);
    box.dataset.host = String(h);
    box.hidden = false;
    $('hb-detail-empty').hidden = true;
    if (focused) focused.scrollIntoView({ block: 'nearest' });
  }

  function selectHost(h, control) {
    state.host = h;
    state.control = control;
    renderDetail();
    markCurrentHost();
    queueDraw();
  }

  setupFilters();
  renderTotals();
  setupHeatmap();
  applyFilters();
  document.body.dataset.ready = 'true';
})();
