/// <reference lib="dom" />
// @ts-check
/** The feature panel: text, dependencies both ways, attempts, requests, and the feature's controls. */
import { control, get, h, money, post, replace } from './dom.js';
import { parseIds, requestForm } from './project.js';

const panel = /** @type {HTMLElement} */ (document.getElementById('panel'));

export function closePanel() {
  panel.hidden = true;
  panel.replaceChildren();
}

/** @param {string | null} a @param {string | null} b */
const duration = (a, b) => (a && b ? `${((Date.parse(b) - Date.parse(a)) / 1000).toFixed(1)} s` : '');

/** @param {string} api @param {string} projectId @param {number} id @param {{ run: any }} state */
export async function openPanel(api, projectId, id, state) {
  panel.hidden = false;
  replace(panel, h('p', {}, 'loading…'));
  let data;
  try {
    data = await get(`${api}/features/${id}`);
  } catch (err) {
    replace(panel, h('p', { class: 'error' }, String(err instanceof Error ? err.message : err)));
    return;
  }
  const f = data.feature;
  const link = (/** @type {{id: number, name: string | null}} */ d) =>
    h('a', { href: `#/p/${projectId}/f/${d.id}` }, `#${d.id} `, d.name ?? '(missing)');
  const deps = h('input', { value: f.dependencies.join(', '), 'data-testid': 'deps' });
  const live = state.run && state.run.outcome === null;
  replace(
    panel,
    h('a', { href: `#/p/${projectId}`, class: 'close' }, '×'),
    h('h2', { 'data-testid': 'panel-title' }, `#${f.id} `, h('span', { class: 'name' }, f.name)),
    h('p', { class: 'muted' }, `${f.category} · priority ${f.priority} · ${f.state} · failures ${f.failureCount}`),
    f.lastError ? h('p', { class: 'error' }, f.lastError) : '',
    h('p', { class: 'description' }, f.description),
    h(
      'ol',
      {},
      f.steps.map((/** @type {string} */ s) => h('li', {}, s)),
    ),
    editForm(api, f),
    h('h3', {}, 'Depends on'),
    h(
      'ul',
      {},
      data.dependencies.map((/** @type {any} */ d) => h('li', {}, link(d))),
    ),
    h('label', {}, 'dependencies ', deps),
    control(
      'Save',
      () =>
        post(`${api}/features/${id}/dependencies`, {
          dependencies: parseIds(/** @type {HTMLInputElement} */ (deps).value),
        }),
      { testid: 'save-deps' },
    ),
    h('h3', {}, 'Dependents'),
    h(
      'ul',
      {},
      data.dependents.map((/** @type {any} */ d) => h('li', {}, link(d))),
    ),
    h(
      'p',
      { class: 'feature-controls' },
      live
        ? control('Stop', () => post(`${api}/features/${id}/stop`), {
            confirm: `Stop feature #${id}? Its agent is killed and it is held.`,
            className: 'danger',
            testid: 'stop-feature',
          })
        : '',
      live ? control('Retry', () => post(`${api}/features/${id}/retry`), { testid: 'retry-feature' }) : '',
      control('Skip', () => post(`${api}/features/${id}/skip`), {
        confirm: `Move #${id} to the end of the queue?`,
        testid: 'skip-feature',
      }),
    ),
    h('h3', {}, 'Human input'),
    data.requests.map((/** @type {any} */ r) =>
      r.answeredAt
        ? h('p', {}, `#${r.id}: `, r.question, ' → ', JSON.stringify(r.answer))
        : requestForm(api, { ...r, featureId: id }),
    ),
    h('h3', {}, 'Attempts'),
    h(
      'table',
      { class: 'attempts' },
      h(
        'tr',
        {},
        ['run', 'outcome', 'duration', 'exit', 'cost', 'log'].map((t) => h('th', {}, t)),
      ),
      data.attempts.map((/** @type {any} */ a) =>
        h(
          'tr',
          {},
          h(
            'td',
            {},
            a.temporalUrl
              ? h('a', { href: a.temporalUrl, target: '_blank', rel: 'noopener' }, `${a.kind} ${a.attempt}`)
              : `${a.kind} ${a.attempt}`,
          ),
          h('td', {}, a.outcome ?? 'running'),
          h('td', {}, duration(a.startedAt, a.endedAt)),
          h('td', {}, a.exitCode ?? a.signal ?? ''),
          h('td', {}, money(a.costUsd)),
          h(
            'td',
            {},
            a.hasLog ? h('a', { href: `${api}/log?run=${encodeURIComponent(a.id)}`, target: '_blank' }, 'log') : '',
          ),
        ),
      ),
    ),
  );
}

/**
 * The feature's text, editable: the server checks it as `features import` does (a name that is not
 * blank), and an error names the field.
 * @param {string} api @param {any} f
 */
function editForm(api, f) {
  const name = h('input', { name: 'name', value: f.name, 'data-testid': 'edit-name' });
  const category = h('input', { name: 'category', value: f.category });
  const description = h('textarea', { name: 'description', rows: 3, 'data-testid': 'edit-description' });
  const steps = h('textarea', { name: 'steps', rows: 3, 'data-testid': 'edit-steps' });
  /** @type {HTMLTextAreaElement} */ (description).value = f.description;
  /** @type {HTMLTextAreaElement} */ (steps).value = f.steps.join('\n');
  const v = (/** @type {HTMLElement} */ el) => /** @type {HTMLInputElement} */ (el).value;
  return h(
    'details',
    { class: 'edit' },
    h('summary', { 'data-testid': 'edit-feature' }, 'Edit'),
    h('label', {}, 'name ', name),
    h('label', {}, 'category ', category),
    h('label', {}, 'description ', description),
    h('label', {}, 'steps, one a line ', steps),
    control(
      'Save',
      () =>
        post(`${api}/features/${f.id}/edit`, {
          name: v(name),
          category: v(category),
          description: v(description),
          steps: v(steps)
            .split('\n')
            .map((s) => s.trim())
            .filter(Boolean),
        }),
      { testid: 'save-edit' },
    ),
  );
}
