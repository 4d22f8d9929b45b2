/// <reference lib="dom" />
// @ts-check
/**
 * The page's only way to make elements: text always goes in as text nodes (never innerHTML), so
 * feature names, questions and log lines can never become markup. Links accept http(s) only.
 */

/**
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...unknown} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = String(value);
    else if (key.startsWith('on') && typeof value === 'function')
      el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else if (key === 'href' && !/^(https?:\/\/|#|\/)/.test(String(value))) continue;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** @param {Element} el @param {unknown[]} children */
function append(el, children) {
  for (const child of children.flat(3)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** @param {Element} el @param {...unknown} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** @param {string | null | undefined} iso */
export function age(iso) {
  if (!iso) return '';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** @param {number | null | undefined} usd */
export const money = (usd) => (usd === null || usd === undefined ? '—' : `$${Number(usd).toFixed(2)}`);

/**
 * POST a JSON body (controls need JSON and a same-origin request: the server's CSRF check).
 * @param {string} path @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function post(path, body = {}) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok)
    throw new Error(json.error ? `${json.error}${json.hint ? ` (${json.hint})` : ''}` : `HTTP ${response.status}`);
  return json;
}

/** @param {string} path @returns {Promise<any>} */
export async function get(path) {
  const response = await fetch(path);
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(json.error ?? `HTTP ${response.status}`);
  return json;
}

/**
 * A button that runs a control; its error shows beside it. Destructive ones ask first.
 * @param {string} label
 * @param {() => Promise<unknown>} action
 * @param {{ confirm?: string, className?: string, testid?: string }} [options]
 */
export function control(label, action, options = {}) {
  const error = h('span', { class: 'error', role: 'alert' });
  const button = h(
    'button',
    {
      class: options.className ?? '',
      'data-testid': options.testid,
      onclick: async () => {
        if (options.confirm && !window.confirm(options.confirm)) return;
        error.textContent = '';
        button.setAttribute('disabled', '');
        try {
          await action();
        } catch (err) {
          error.textContent = err instanceof Error ? err.message : String(err);
        } finally {
          button.removeAttribute('disabled');
        }
      },
    },
    label,
  );
  return h('span', { class: 'control' }, button, error);
}
