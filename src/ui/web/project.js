/// <reference lib="dom" />
// @ts-check
/**
 * A project's page: run header and controls, the board (patched card by card from the event
 * stream, never rebuilt), agents, human requests, activity, the graph, and the feature panel.
 */
import { renderAgents } from './agents.js';
import { age, control, h, money, post, replace } from './dom.js';
import { renderGraph } from './graph.js';
import { openPanel, closePanel } from './panel.js';

const COLUMNS = ['pending', 'ready', 'running', 'merging', 'passing', 'failed', 'held', 'needs_input'];
const TITLES = /** @type {Record<string, string>} */ ({ needs_input: 'needs input' });

/** @param {HTMLElement} root @param {string} projectId @returns {() => void} */
export function openProject(root, projectId) {
  const api = `/api/projects/${projectId}`;
  /** @type {{ run: any, features: Map<number, any>, requests: any[], agents: any[], activity: any[] }} */
  const state = { run: null, features: new Map(), requests: [], agents: [], activity: [] };
  const header = h('section', { class: 'run', 'data-testid': 'run' });
  const controls = h('section', { class: 'controls' });
  const progress = h('div', { class: 'progress' }, h('div', { class: 'bar' }));
  const board = h('section', { class: 'board', 'data-testid': 'board' });
  const graph = h('section', { class: 'graph', hidden: true });
  const agents = h('section', { class: 'agents', 'data-testid': 'agents' });
  const requests = h('section', { class: 'requests', 'data-testid': 'requests' });
  const activity = h('ol', { class: 'activity', 'data-testid': 'activity' });
  const error = h('p', { class: 'error', role: 'alert' });
  /** @type {Map<string, { list: HTMLElement, count: HTMLElement }>} */
  const columns = new Map();
  /** @type {Map<number, HTMLElement>} */
  const cards = new Map();
  for (const name of COLUMNS) {
    const count = h('span', { class: 'count' }, '0');
    const list = h('div', { class: 'cards' });
    board.append(
      h(
        'div',
        { class: `column col-${name}`, 'data-column': name },
        h('h3', {}, TITLES[name] ?? name, ' ', count),
        list,
      ),
    );
    columns.set(name, { list, count });
  }
  const tabs = h(
    'nav',
    { class: 'tabs' },
    h(
      'button',
      { 'data-testid': 'board-tab', onclick: () => ((board.hidden = false), (graph.hidden = true)) },
      'Board',
    ),
    h(
      'button',
      {
        'data-testid': 'graph-tab',
        onclick: () => ((board.hidden = true), (graph.hidden = false), void renderGraph(graph, api, state)),
      },
      'Graph',
    ),
  );
  replace(
    root,
    header,
    progress,
    controls,
    error,
    tabs,
    board,
    graph,
    h(
      'div',
      { class: 'lower' },
      h('div', {}, h('h2', {}, 'Agents'), agents),
      h('div', {}, h('h2', {}, 'Human input'), requests, h('h2', {}, 'Activity'), activity),
    ),
    addFeatureForm(api),
  );

  /**
   * @param {any} f
   * @param {Map<HTMLElement, DocumentFragment>} [batch] new cards gathered per column, appended at once
   */
  function upsertCard(f, batch) {
    let card = cards.get(f.id);
    if (!card) {
      card = h('a', { class: 'card', href: `#/p/${projectId}/f/${f.id}`, 'data-feature': f.id });
      cards.set(f.id, card);
    }
    replace(
      card,
      h('span', { class: 'id' }, `#${f.id}`),
      ' ',
      h('span', { class: 'name' }, f.name),
      f.failureCount ? h('span', { class: 'fails' }, ` ×${f.failureCount}`) : '',
    );
    card.dataset.state = f.state;
    const column = columns.get(f.column) ?? columns.get('pending');
    if (!column || card.parentElement === column.list) return;
    if (!batch) return void column.list.append(card);
    let fragment = batch.get(column.list);
    if (!fragment) batch.set(column.list, (fragment = document.createDocumentFragment()));
    fragment.append(card);
  }
  /** @param {number} id @param {HTMLElement | undefined} card */
  function removeCard(id, card) {
    card?.remove();
    cards.delete(id);
  }
  function counts() {
    for (const { list, count } of columns.values()) count.textContent = String(list.childElementCount);
    const c = state.run?.counts;
    const total = c?.total || state.features.size;
    const passing = c ? c.passing : [...state.features.values()].filter((f) => f.state === 'passing').length;
    const bar = /** @type {HTMLElement} */ (progress.firstElementChild);
    bar.style.width = `${total ? Math.round((100 * passing) / total) : 0}%`;
    progress.title = `${passing}/${total} passing`;
  }
  function renderRun() {
    const run = state.run;
    const s = run?.status;
    replace(
      header,
      h('h1', {}, projectId),
      h(
        'p',
        {},
        !run
          ? 'never run'
          : run.outcome
            ? `ended ${run.outcome}`
            : run.unanswered
              ? `running, but ${run.unanswered}`
              : `phase ${run.phase}`,
        s?.paused
          ? h('span', { class: 'badge paused', 'data-testid': 'paused' }, ` paused (${s.pause?.reason ?? 'operator'})`)
          : '',
        s
          ? ` · concurrency ${s.settings.concurrency} · testing ratio ${s.settings.testingRatio} · agent ${s.settings.agent}`
          : '',
        ` · spend ${money(s?.costUsd)}`,
        s?.startedAt ? ` · started ${age(s.startedAt)} ago` : '',
        ' · ',
        run?.temporalUrl ? h('a', { href: run.temporalUrl, target: '_blank', rel: 'noopener' }, 'Temporal UI') : '',
      ),
    );
    const live = run && run.outcome === null;
    // Built once per mode, not on every update: an error shown beside a control, or a value being
    // typed, survives the next status tick.
    if (live && controls.dataset.mode !== 'live') replace(controls, liveControls(api, projectId));
    else if (!live && controls.dataset.mode !== 'start') replace(controls, startForm(api));
    if (live) {
      for (const name of ['concurrency', 'testingRatio']) {
        const input = /** @type {HTMLInputElement | null} */ (controls.querySelector(`input[name="${name}"]`));
        const value = String(s?.settings[name] ?? '');
        // Follow the run's value when it changes, unless someone is editing the field.
        if (input && input.dataset.shown !== value) {
          if (document.activeElement !== input) input.value = value;
          input.dataset.shown = value;
        }
      }
    }
    controls.dataset.mode = live ? 'live' : 'start';
    counts();
  }
  function renderRequests() {
    replace(
      requests,
      state.requests.length === 0 ? h('p', { class: 'muted' }, 'no open request') : '',
      state.requests.map((r) => requestForm(api, r)),
    );
  }
  function renderActivity() {
    replace(
      activity,
      state.activity.map((a) =>
        h(
          'li',
          {},
          `${new Date(a.at).toLocaleTimeString()} #${a.featureId} `,
          h('span', { class: 'name' }, a.name),
          `: ${a.from} → ${a.to}`,
        ),
      ),
    );
  }

  const events = new EventSource(`${api}/events`);
  const conn = /** @type {HTMLElement} */ (document.getElementById('conn'));
  events.onopen = () => (conn.textContent = 'live');
  events.onerror = () => (conn.textContent = 'reconnecting…');
  /** @param {string} name @param {(data: any) => void} handle */
  const on = (name, handle) =>
    events.addEventListener(name, (e) => handle(JSON.parse(/** @type {MessageEvent} */ (e).data)));
  on('snapshot', (s) => {
    state.run = s.run;
    state.features = new Map(s.features.map((/** @type {any} */ f) => [f.id, f]));
    for (const [id, card] of cards) if (!state.features.has(id)) removeCard(id, card);
    // One insertion per column, not one per card: the first snapshot of 1,000 features lays out once.
    /** @type {Map<HTMLElement, DocumentFragment>} */
    const batch = new Map();
    for (const f of s.features) upsertCard(f, batch);
    for (const [list, fragment] of batch) list.append(fragment);
    Object.assign(state, { requests: s.requests, agents: s.agents, activity: s.activity });
    error.textContent = s.error ?? '';
    renderRun();
    renderRequests();
    renderAgents(agents, api, state.agents);
    renderActivity();
  });
  on('features', ({ changed, removed }) => {
    for (const f of changed) {
      state.features.set(f.id, f);
      upsertCard(f);
    }
    for (const id of removed) {
      state.features.delete(id);
      removeCard(id, cards.get(id));
    }
    counts();
    if (!graph.hidden) void renderGraph(graph, api, state);
  });
  on('run', (run) => ((state.run = run), renderRun()));
  on('requests', (r) => ((state.requests = r), renderRequests()));
  on('agents', (a) => ((state.agents = a), renderAgents(agents, api, a)));
  on('activity', (a) => ((state.activity = a), renderActivity()));
  on('error', (e) => (error.textContent = e ?? ''));

  /** @param {Event} e */
  const onFeature = (e) => {
    const id = /** @type {CustomEvent} */ (e).detail;
    if (id) void openPanel(api, projectId, id, state);
    else closePanel();
  };
  window.addEventListener('feature-route', onFeature);
  return () => {
    events.close();
    window.removeEventListener('feature-route', onFeature);
    closePanel();
  };
}

/** The controls of a run in progress. @param {string} api @param {string} projectId */
function liveControls(api, projectId) {
  const number = (/** @type {string} */ name) =>
    h('input', { type: 'number', name, min: 0, class: 'num', 'data-testid': `input-${name}` });
  const conc = number('concurrency');
  const ratio = number('testingRatio');
  const v = (/** @type {HTMLElement} */ el) => Number(/** @type {HTMLInputElement} */ (el).value);
  return [
    control('Pause', () => post(`${api}/control`, { action: 'pause' }), { testid: 'pause' }),
    control('Resume', () => post(`${api}/control`, { action: 'resume' }), { testid: 'resume' }),
    control('Drain', () => post(`${api}/control`, { action: 'drain' }), {
      confirm: `Drain ${projectId}? Nothing new starts.`,
      testid: 'drain',
    }),
    control('Stop', () => post(`${api}/control`, { action: 'stop' }), {
      confirm: `Stop ${projectId}? Every agent is killed.`,
      className: 'danger',
      testid: 'stop-run',
    }),
    h('label', {}, ' concurrency ', conc),
    control('Set', () => post(`${api}/settings`, { concurrency: v(conc) }), { testid: 'set-concurrency' }),
    h('label', {}, ' testing ratio ', ratio),
    control('Set', () => post(`${api}/settings`, { testingRatio: v(ratio) }), { testid: 'set-testing-ratio' }),
  ];
}

/** @param {string} api */
function startForm(api) {
  const agent = h(
    'select',
    { name: 'agent' },
    h('option', { value: 'claude' }, 'claude'),
    h('option', { value: 'simulate' }, 'simulate'),
  );
  const conc = h('input', { type: 'number', name: 'concurrency', value: 3, min: 1, max: 50, class: 'num' });
  const ratio = h('input', { type: 'number', name: 'testingRatio', value: 1, min: 0, max: 3, class: 'num' });
  const retries = h('input', { type: 'number', name: 'maxRetries', value: 3, min: 1, max: 100, class: 'num' });
  const v = (/** @type {HTMLElement} */ el) => /** @type {HTMLInputElement} */ (el).value;
  return h(
    'span',
    { class: 'start' },
    h('label', {}, 'agent ', agent),
    h('label', {}, ' concurrency ', conc),
    h('label', {}, ' testing ratio ', ratio),
    h('label', {}, ' max retries ', retries),
    control(
      'Start run',
      () =>
        post(`${api}/runs`, {
          agent: v(agent),
          concurrency: Number(v(conc)),
          testingRatio: Number(v(ratio)),
          maxRetries: Number(v(retries)),
        }),
      { testid: 'start-run' },
    ),
  );
}

/** @param {string} api @param {any} r */
export function requestForm(api, r) {
  const answer = h('textarea', { name: 'answer', rows: 2, 'data-testid': `answer-${r.id}` });
  return h(
    'div',
    { class: 'request', 'data-request': r.id },
    h(
      'p',
      {},
      h('b', {}, `#${r.id} ${r.kind}${r.featureId ? ` · feature #${r.featureId}` : ''}: `),
      h('span', { class: 'question' }, r.question),
    ),
    answer,
    control(
      'Answer',
      () => post(`${api}/requests/${r.id}/answer`, { answer: /** @type {HTMLTextAreaElement} */ (answer).value }),
      { testid: `send-answer-${r.id}` },
    ),
  );
}

/** @param {string} api */
function addFeatureForm(api) {
  const name = h('input', { name: 'name', placeholder: 'name', 'data-testid': 'new-name' });
  const category = h('input', { name: 'category', placeholder: 'category', value: 'functional' });
  const description = h('textarea', { name: 'description', placeholder: 'description', rows: 2 });
  const steps = h('textarea', { name: 'steps', placeholder: 'steps, one a line', rows: 2 });
  const deps = h('input', { name: 'dependencies', placeholder: 'depends on: 1, 2', 'data-testid': 'new-deps' });
  const v = (/** @type {HTMLElement} */ el) => /** @type {HTMLInputElement} */ (el).value;
  return h(
    'details',
    { class: 'add' },
    h('summary', {}, 'Add a feature'),
    name,
    category,
    description,
    steps,
    deps,
    control(
      'Add',
      async () => {
        await post(`${api}/features`, {
          name: v(name),
          category: v(category) || 'functional',
          description: v(description),
          steps: v(steps)
            .split('\n')
            .map((s) => s.trim())
            .filter(Boolean),
          dependencies: parseIds(v(deps)),
        });
        /** @type {HTMLInputElement} */ (name).value = '';
      },
      { testid: 'add-feature' },
    ),
  );
}

/** @param {string} text */
export const parseIds = (text) =>
  text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
