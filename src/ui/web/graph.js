/// <reference lib="dom" />
// @ts-check
/**
 * The dependency graph as SVG: the layout comes from the server (dagre, cached per graph shape),
 * the colours from the live feed; the critical path is outlined; a click opens the feature.
 */
const NS = 'http://www.w3.org/2000/svg';
const W = 180;
const H = 34;
/** @type {{ api: string, layout: any, at: number } | null} */
let cache = null;

/** @param {string} tag @param {Record<string, string | number>} attrs */
function svg(tag, attrs) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** @param {HTMLElement} root @param {string} api @param {{ features: Map<number, any> }} state */
export async function renderGraph(root, api, state) {
  // The shape changes rarely: fetch the layout again at most every 2 s.
  if (!cache || cache.api !== api || Date.now() - cache.at > 2000) {
    const response = await fetch(`${api}/graph`);
    cache = { api, layout: await response.json(), at: Date.now() };
  }
  const layout = cache.layout;
  const critical = new Set(layout.critical);
  const root_ = svg('svg', { width: layout.width, height: layout.height, 'data-testid': 'graph' });
  for (const e of layout.edges) {
    const d = e.points
      .map((/** @type {any} */ p, /** @type {number} */ i) => `${i ? 'L' : 'M'}${p.x},${p.y}`)
      .join(' ');
    root_.append(svg('path', { d, class: critical.has(e.from) && critical.has(e.to) ? 'edge critical' : 'edge' }));
  }
  for (const n of layout.nodes) {
    const f = state.features.get(n.id);
    const g = svg('g', {
      class: `node s-${f?.column ?? 'pending'}${critical.has(n.id) ? ' critical' : ''}`,
      'data-node': n.id,
      transform: `translate(${n.x - W / 2},${n.y - H / 2})`,
    });
    g.append(svg('rect', { width: W, height: H, rx: 4 }));
    const text = svg('text', { x: 6, y: 21 });
    const name = `#${n.id} ${f?.name ?? ''}`;
    text.textContent = name.length > 26 ? `${name.slice(0, 25)}…` : name;
    const title = svg('title', {});
    title.textContent = name;
    g.append(text, title);
    g.addEventListener('click', () => (location.hash = `${location.hash.split('/f/')[0]}/f/${n.id}`));
    root_.append(g);
  }
  root.replaceChildren(root_);
}
