// A finished task's parsed result: text as text, JSON as a tree, a table as a table.
import { el } from './format.js';

function isTable(v) {
  return Array.isArray(v) && v.length > 0 && v.every((r) => r && typeof r === 'object' && !Array.isArray(r));
}

function table(rows) {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return el('div', { class: 'table-wrap' },
    el('table', { class: 'result-table' },
      el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col', text: c })))),
      el('tbody', {}, rows.map((r) => el('tr', {}, columns.map((c) => el('td', { text: scalar(r[c]) })))))));
}

function scalar(v) {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function tree(v, key, depth = 0) {
  const label = key === undefined ? '' : `${key}: `;
  if (v === null || typeof v !== 'object') {
    return el('div', { class: 'json-leaf' }, el('span', { class: 'json-key', text: label }),
      el('span', { class: `json-${v === null ? 'null' : typeof v}`, text: JSON.stringify(v) }));
  }
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  const summary = Array.isArray(v) ? `[${v.length}]` : `{${entries.length}}`;
  return el('details', { class: 'json-node', open: depth < 2 },
    el('summary', {}, el('span', { class: 'json-key', text: label }), summary),
    entries.map(([k, x]) => tree(x, k, depth + 1)));
}

/** The element that shows `result`; `kind` is the task's result kind when known. */
export function renderResult(result, kind) {
  if (result === null || result === undefined) return null;
  let body;
  if (typeof result === 'string') body = el('pre', { class: 'result-text', text: result });
  else if (kind === 'table' || isTable(result)) body = isTable(result) ? table(result) : tree(result);
  else body = el('div', { class: 'json-tree' }, tree(result));
  return el('section', { class: 'result', 'aria-label': 'Result' }, el('h3', { text: 'Result' }), body);
}
