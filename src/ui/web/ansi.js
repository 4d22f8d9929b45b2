/// <reference lib="dom" />
// @ts-check
/**
 * ANSI colours (SGR) of a log line as spans with classes; every piece of text is a text node.
 * Other escape sequences are dropped.
 */
const CSI = /\u001b\[([0-9;]*)([A-Za-z])/g;

/** @param {string} line @returns {HTMLElement} */
export function renderAnsi(line) {
  const out = document.createElement('div');
  out.className = 'line';
  /** @type {string[]} */
  let classes = [];
  let last = 0;
  const push = (/** @type {string} */ text) => {
    if (!text) return;
    if (classes.length === 0) out.append(text);
    else {
      const span = document.createElement('span');
      span.className = classes.join(' ');
      span.textContent = text;
      out.append(span);
    }
  };
  for (const match of line.matchAll(CSI)) {
    push(line.slice(last, match.index));
    last = (match.index ?? 0) + match[0].length;
    if (match[2] !== 'm') continue;
    for (const code of (match[1] || '0').split(';').map(Number)) {
      if (code === 0) classes = [];
      else if (code === 1) classes.push('b');
      else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97))
        classes = [...classes.filter((c) => !c.startsWith('fg')), `fg${code}`];
      else if ((code >= 40 && code <= 47) || (code >= 100 && code <= 107))
        classes = [...classes.filter((c) => !c.startsWith('bg')), `bg${code}`];
    }
  }
  push(line.slice(last).replace(/\u001b/g, ''));
  return out;
}
