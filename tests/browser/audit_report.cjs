// Loads an HTML fleet report in headless Chromium (Debian's, driven by playwright-core), acts on
// it like a person and prints what it saw as one JSON verdict on stdout. It asserts nothing: the
// Rust test that runs it (tests/integration/audit_html.rs) does.
//
// Usage: node audit_report.cjs SPEC.json
//   SPEC: { "page": "/abs/report.html", "userDataDir": "/abs/empty-dir",
//           "viewport": { "width": 1400, "height": 1000 },
//           "steps": [ { "do": "click-cell", "row": 1, "col": 0 }
//                    | { "do": "select", "id": "hb-f-category", "value": "function" }
//                    | { "do": "search", "text": "…" }
//                    | { "do": "click", "selector": "#hb-hostlist button" }
//                    | { "do": "screenshot", "path": "/abs/shot.png" } ] }
// Environment: HARDBASE_PLAYWRIGHT_DIR (the npm prefix holding playwright-core; default
// /opt/hardbase-node) and HARDBASE_CHROMIUM (default /usr/bin/chromium).
'use strict';

const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

const prefix = process.env.HARDBASE_PLAYWRIGHT_DIR || '/opt/hardbase-node';
const { chromium } = require(path.join(prefix, 'node_modules', 'playwright-core'));

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// What the page shows now: the counts a filter changes and the open host's detail.
function observe() {
  const text = (id) => (document.getElementById(id) || {}).textContent || '';
  const detail = document.getElementById('hb-detail');
  return {
    shownHosts: Number(text('hb-shown-hosts')),
    shownControls: Number(text('hb-shown-controls')),
    listItems: document.querySelectorAll('#hb-hostlist li').length,
    controlRows: document.querySelectorAll('#hb-controls-body tr').length,
    detailVisible: !detail.hidden && detail.offsetHeight > 0,
    detailHost: detail.hidden ? null : Number(detail.dataset.host),
    detailTitle: detail.hidden ? null : (detail.querySelector('h3 span') || {}).textContent || null,
    detailText: detail.hidden ? '' : detail.textContent,
    focusedControl: (detail.querySelector('.hb-focus') || { dataset: {} }).dataset.control || null,
    hover: text('hb-hover'),
  };
}

// The heatmap's pixels: how many have the drift colour, how many differ from the background,
// and how many distinct colours there are.
function sampleCanvas() {
  const canvas = document.getElementById('hb-canvas');
  // Read through a copy, so the page's own canvas is never read back (which Chromium warns of).
  const copy = document.createElement('canvas');
  copy.width = canvas.width;
  copy.height = canvas.height;
  const ctx = copy.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(canvas, 0, 0);
  const { data } = ctx.getImageData(0, 0, copy.width, copy.height);
  const css = getComputedStyle(document.documentElement);
  const rgb = (name) => {
    const hex = css.getPropertyValue(name).trim().replace('#', '');
    return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  };
  const drift = rgb('--st-drift');
  const background = rgb('--bg');
  let driftPixels = 0;
  let nonBackground = 0;
  const colours = new Set();
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    if (r === drift[0] && g === drift[1] && b === drift[2]) driftPixels++;
    if (r !== background[0] || g !== background[1] || b !== background[2]) nonBackground++;
    colours.add((r << 16) | (g << 8) | b);
  }
  return { width: canvas.width, height: canvas.height, driftPixels, nonBackground, colours: colours.size };
}

// Everything in the document that could run or load something, and the JSON blocks.
function inventory() {
  const scripts = Array.from(document.scripts);
  return {
    lang: document.documentElement.lang,
    title: document.title,
    pwned: typeof window.__pwned,
    activeElements: document.querySelectorAll('img, svg, iframe, object, embed, frame, base, form, link:not([rel="icon"])').length,
    inlineScripts: scripts.filter((s) => !s.type).length,
    jsonScripts: scripts.filter((s) => s.type === 'application/json').length,
    cspViolations: window.__cspViolations ? window.__cspViolations.slice() : null,
  };
}

async function main() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const verdict = { consoleErrors: [], pageErrors: [], requests: [], steps: [] };
  const context = await chromium.launchPersistentContext(spec.userDataDir, {
    executablePath: process.env.HARDBASE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    viewport: spec.viewport || { width: 1400, height: 1000 },
    offline: true,
  });
  try {
    context.on('request', (request) => verdict.requests.push(request.url()));
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        verdict.consoleErrors.push(message.type() + ': ' + message.text());
      }
    });
    page.on('pageerror', (error) => verdict.pageErrors.push(String(error)));
    // Runs before the page's own script (through the DevTools protocol, so the page's CSP does
    // not apply to it): records every CSP violation the page triggers.
    await page.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI),
      );
    });

    verdict.pageUrl = pathToFileURL(spec.page).href;
    const started = Date.now();
    await page.goto(verdict.pageUrl, { waitUntil: 'load' });
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60000 });
    verdict.readyMs = Date.now() - started;
    verdict.canvas = await page.evaluate(sampleCanvas);
    verdict.initial = await page.evaluate(observe);
    verdict.initialText = await page.evaluate(() => document.querySelector('main').innerText);

    for (const step of spec.steps) {
      if (step.do === 'click-cell') {
        await page.locator('#hb-scroll').scrollIntoViewIfNeeded();
        const at = await page.evaluate(({ row, col }) => {
          const scroller = document.getElementById('hb-scroll');
          const g = scroller.dataset;
          const box = scroller.getBoundingClientRect();
          return {
            x: box.left + Number(g.gutter) + (col + 0.5) * Number(g.col) - scroller.scrollLeft,
            y: box.top + Number(g.header) + (row + 0.5) * Number(g.row) - scroller.scrollTop,
          };
        }, step);
        await page.mouse.move(at.x, at.y);
        await page.mouse.click(at.x, at.y);
      } else if (step.do === 'select') {
        await page.selectOption('#' + step.id, step.value);
      } else if (step.do === 'search') {
        await page.fill('#hb-search', step.text);
        await page.waitForTimeout(400);
      } else if (step.do === 'click') {
        await page.locator(step.selector).first().click();
      } else if (step.do === 'screenshot') {
        await page.screenshot({ path: step.path, fullPage: step.fullPage !== false });
      } else {
        throw new Error('unknown step ' + JSON.stringify(step));
      }
      const seen = await page.evaluate(observe);
      seen.step = step.do;
      verdict.steps.push(seen);
    }
    verdict.canvasAfter = await page.evaluate(sampleCanvas);
    Object.assign(verdict, await page.evaluate(inventory));
  } finally {
    await context.close();
  }
  process.stdout.write(JSON.stringify(verdict) + '\n');
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + '\n');
  process.exit(1);
});
