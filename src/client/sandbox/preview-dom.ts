/**
 * Small DOM helpers for the live-preview panels. Everything the server sends is inserted as
 * text (textContent), never as HTML.
 */
export const fill = (template: string, values: Record<string, string | number>) =>
  template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key] ?? ''));

type Props = Record<string, string | boolean | undefined>;

/** An element with attributes (strings; `true` for a bare attribute) and children (text or elements). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children);
  return node;
}

/** A labelled control: the label wraps its text and the control (no ids needed). */
export function field(label: string, control: HTMLElement, className = 'preview-field'): HTMLLabelElement {
  return el('label', { class: className }, el('span', {}, label), control);
}

/** Appends one line to a log list and keeps it scrolled to the newest when the reader was there. */
export function logLine(list: HTMLElement, text: string, kind = ''): HTMLLIElement {
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
  const item = el('li', kind ? { class: kind } : {});
  item.textContent = text;
  list.append(item);
  if (atBottom) list.scrollTop = list.scrollHeight;
  return item;
}
