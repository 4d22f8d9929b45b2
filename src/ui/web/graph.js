/// <reference lib="dom" />
// @ts-check
/**
 * The dependency graph as SVG: the layout comes from the server (computed in a worker thread when
 * the project's feed started, cached per graph shape), the colours from the live feed; the
 * critical path is outlined; a click opens the feature. The SVG is built once per shape, in a
 * fragment: all edges are two paths (one `d` each, plain and critical), one click listener serves
 * every node. Later calls only recolour the nodes and move the critical path.
 */
const NS = 'http://www.w3.org/2000/svg';
const W = 180;
const H = 34;
/** @type {{ api: string, layout: any, at: number } | null} */
let cache = null;
/** @type {{ api: string, shape: string, svg: SVGSVGElement, nodes: Map<number, SVGGElement>, edges: SVGPathElement, critical: SVGPathElement } | null} */
let drawn = null;

/** @param {string} tag @param {Record<string, string | number>} attrs */
function svg(tag, attrs) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** An edge's path: dagre's polyline, or a curve between two points (our layered layout). @param {{ x: number, y: number }[]} p */
function edgePath(p) {
  if (p.length === 2) {
    const [a, b] = /** @type {[{ x: number, y: number }, { x: number, y: number }]} */ (p);
    const dx = Math.max(20, (b.x - a.x) / 2);
    return `M${a.x},${a.y}C${a.x + dx},${a.y} ${b.x - dx},${b.y} ${b.x},${b.y}`;
  }
  return p.map((q, i) => `${i ? 'L' : 'M'}${q.x},${q.y}`).join('');
}

/** @param {any} layout @param {string} api */
function build(layout, api) {
  const root = /** @type {SVGSVGElement} */ (
    svg('svg', { width: layout.width, height: layout.height, 'data-testid': 'graph' })
  );
  const edges = /** @type {SVGPathElement} */ (svg('path', { class: 'edge' }));
  const critical = /** @type {SVGPathElement} */ (svg('path', { class: 'edge critical' }));
  const nodes = new Map();
  const fragment = document.createDocumentFragment();
  for (const n of layout.nodes) {
    const g = /** @type {SVGGElement} */ (
      svg('g', { 'data-node': n.id, transform: `translate(${n.x - W / 2},${n.y - H / 2})` })
    );
    g.append(svg('rect', { width: W, height: H, rx: 4 }), svg('text', { x: 6, y: 21 }), svg('title', {}));
    nodes.set(n.id, g);
    fragment.append(g);
  }
  root.append(edges, critical, fragment);
  root.addEventListener('click', (e) => {
    const node = /** @type {Element} */ (e.target).closest('[data-node]');
    if (node) location.hash = `${location.hash.split('/f/')[0]}/f/${node.getAttribute('data-node')}`;
  });
  return { api, shape: layout.shape, svg: root, nodes, edges, critical };
}

/**
 * Draws (or updates) the graph of `api` into `root`.
 * @param {HTMLElement} root @param {string} api @param {{ features: Map<number, any> }} state
 */
export async function renderGraph(root, api, state) {
  // The shape changes rarely and the critical path slowly: ask again at most every 2 s.
  if (!cache || cache.api !== api || Date.now() - cache.at > 2000) {
    const response = await fetch(`${api}/graph`);
    const layout = await response.json();
    if (!response.ok) throw new Error(layout.error ?? `HTTP ${response.status}`);
    cache = { api, layout, at: Date.now() };
  }
  const layout = cache.layout;
  if (!drawn || drawn.api !== api || drawn.shape !== layout.shape) drawn = build(layout, api);
  if (drawn.svg.parentNode !== root) root.replaceChildren(drawn.svg);
  const onPath = new Set(layout.critical);
  let plain = '';
  let critical = '';
  for (const e of layout.edges) {
    if (onPath.has(e.from) && onPath.has(e.to)) critical += edgePath(e.points);
    else plain += edgePath(e.points);
  }
  drawn.edges.setAttribute('d', plain);
  drawn.critical.setAttribute('d', critical);
  for (const [id, g] of drawn.nodes) {
    const f = state.features.get(id);
    const className = `node s-${f?.column ?? 'pending'}${onPath.has(id) ? ' critical' : ''}`;
    if (g.getAttribute('class') !== className) g.setAttribute('class', className);
    const name = `#${id} ${f?.name ?? ''}`;
    const [, text, title] = /** @type {[Element, Element, Element]} */ (/** @type {unknown} */ (g.children));
    if (title.textContent !== name) {
      title.textContent = name;
      text.textContent = name.length > 26 ? `${name.slice(0, 25)}…` : name;
    }
  }
}
