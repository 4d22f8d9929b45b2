/// <reference lib="dom" />
// @ts-check
/**
 * Agent cards (kind, feature, elapsed time, latest thought) and the live log tail: lines arrive
 * over an event stream, ANSI colours become spans, and at most MAX_LINES stay in the page.
 */
import { renderAnsi } from './ansi.js';
import { age, h, replace } from './dom.js';

const MAX_LINES = 1000;
/** @type {{ run: string, source: EventSource, box: HTMLElement } | null} */
let tail = null;

/** @param {HTMLElement} root @param {string} api @param {any[]} agents */
export function renderAgents(root, api, agents) {
  const cards = agents.map((a) =>
    h(
      'div',
      { class: 'agent', 'data-agent': a.workflowId },
      h(
        'p',
        {},
        h('b', {}, a.kind),
        // A batch is one agent with its features: "coding #4 +#5 +#7".
        a.featureId ? ` ${featureLabel(a)} ` : ' ',
        h('span', { class: 'name' }, a.featureName),
        ' · ',
        h('span', { class: 'elapsed', 'data-since': a.startedAt }, age(a.startedAt)),
      ),
      a.pid ? h('p', { class: 'muted' }, `pid ${a.pid}`) : '',
      h('p', { class: 'thought' }, a.thought ?? '…'),
      h('button', { onclick: () => openTail(root, api, a.workflowId), 'data-testid': 'tail' }, 'Live log'),
      ' ',
      h('a', { href: `${api}/log?run=${encodeURIComponent(a.workflowId)}`, target: '_blank' }, 'full log'),
    ),
  );
  const box = tail && agents.some((a) => a.workflowId === tail?.run) ? tail.box : null;
  replace(root, agents.length === 0 ? h('p', { class: 'muted' }, 'no agent running') : cards, box);
}

/** @param {HTMLElement} root @param {string} api @param {string} run */
function openTail(root, api, run) {
  tail?.source.close();
  const box = h('div', { class: 'log', 'data-testid': 'log' }, h('p', { class: 'muted' }, run));
  const source = new EventSource(`${api}/log/stream?run=${encodeURIComponent(run)}`);
  source.addEventListener('lines', (e) => {
    const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    for (const line of JSON.parse(/** @type {MessageEvent} */ (e).data)) box.append(renderAnsi(line));
    while (box.childElementCount > MAX_LINES) box.firstElementChild?.remove();
    if (stick) box.scrollTop = box.scrollHeight;
  });
  tail = { run, source, box };
  root.append(box);
}

setInterval(() => {
  for (const el of document.querySelectorAll('[data-since]'))
    el.textContent = age(/** @type {HTMLElement} */ (el).dataset.since);
}, 1000);

/** "#4", or for a batch "#4 +#5 +#7" (the first first). @param {any} a */
export function featureLabel(a) {
  const rest = (a.featureIds ?? []).filter((/** @type {number} */ id) => id !== a.featureId);
  return [`#${a.featureId}`, ...rest.map((/** @type {number} */ id) => `+#${id}`)].join(' ');
}
