/// <reference lib="dom" />
// @ts-check
/** The dashboard's router: #/ is the projects page, #/p/<id> a project, #/p/<id>/f/<n> a feature. */
import { featureLabel } from './agents.js';
import { age, get, h, money, replace } from './dom.js';
import { openProject } from './project.js';

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const crumb = /** @type {HTMLElement} */ (document.getElementById('crumb'));
/** @type {(() => void) | null} */
let leave = null;

async function route() {
  const [, kind, projectId, , featureId] = location.hash.split('/');
  if (kind === 'p' && projectId) {
    if (!leave || main.dataset.project !== projectId) {
      leave?.();
      main.dataset.project = projectId;
      replace(crumb, ' / ', projectId);
      leave = openProject(main, projectId);
    }
    window.dispatchEvent(new CustomEvent('feature-route', { detail: featureId ? Number(featureId) : null }));
    return;
  }
  leave?.();
  delete main.dataset.project;
  replace(crumb);
  leave = projectsPage(main);
}

/** @param {HTMLElement} root */
function projectsPage(root) {
  const table = h('tbody');
  const error = h('p', { class: 'error' });
  replace(
    root,
    h('h1', {}, 'Projects'),
    error,
    h(
      'table',
      { class: 'projects', 'data-testid': 'projects' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['project', 'phase', 'outcome', 'features', 'spend', 'agents', 'age', 'run'].map((t) => h('th', {}, t)),
        ),
      ),
      table,
    ),
  );
  const load = async () => {
    try {
      /** @type {any[]} */
      const projects = await get('/api/projects');
      error.textContent = '';
      replace(
        table,
        projects.map((p) => {
          const c = p.counts;
          const running = p.run?.running ?? [];
          return h(
            'tr',
            { 'data-project': p.id },
            h('td', {}, h('a', { href: `#/p/${p.id}` }, p.id)),
            h('td', {}, p.run ? (p.run.phase ?? 'no worker') : 'never run'),
            h('td', {}, p.run?.outcome ?? (p.run ? 'in progress' : '')),
            h('td', {}, `${c.passing}/${c.total} passing · ${c.running} running · ${c.failed} failed`),
            h('td', {}, money(p.spendUsd)),
            h(
              'td',
              {},
              running
                .map((/** @type {any} */ a) => `${a.kind}${a.featureId ? ` ${featureLabel(a)}` : ''}`)
                .join(', ') || '—',
            ),
            h('td', {}, age(p.run?.status?.startedAt ?? p.createdAt)),
            h(
              'td',
              {},
              p.temporalUrl ? h('a', { href: p.temporalUrl, target: '_blank', rel: 'noopener' }, 'Temporal UI') : '',
            ),
          );
        }),
      );
    } catch (err) {
      error.textContent = String(err instanceof Error ? err.message : err);
    }
  };
  void load();
  const timer = setInterval(load, 2000);
  return () => clearInterval(timer);
}

window.addEventListener('hashchange', () => void route());
void route();
