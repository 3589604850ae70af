/**
 * Code colours as classes, not per-token inline styles. Shiki writes each token's two colours
 * (light and dark theme) into a `style` attribute, and a long lesson has thousands of tokens;
 * the themes use only a handful of pairs, so each known pair becomes a short class whose
 * variables are set once in global.css ("code token colours"), and the commonest pair (the
 * themes' own text colour, which the block already sets) needs nothing at all. A pair not in
 * the table keeps its inline style, so a new theme or language still shows its colours.
 *
 * Then the markup is made as small as the colours allow (`code` hook): a token in the text
 * colour is bare text, neighbours of one colour are one span, and no line is wrapped in its
 * own `<span class="line">` (nothing styles or reads it; the newlines inside `<pre>` make the
 * lines). A long lesson's code was a fifth of its compressed page in those wrappers.
 */
import type { ShikiTransformer } from 'shiki';
import type { Element, ElementContent } from 'hast';

/** The themes' text colour: what `.astro-code span` inherits from the block. */
export const plainTokenStyle = '--shiki-light:#1F2328;--shiki-dark:#E6EDF3';

/** Style Shiki writes → class; global.css gives each class the same two variables. */
export const tokenClasses: Readonly<Record<string, string>> = {
  '--shiki-light:#CF222E;--shiki-dark:#FF7B72': 'tk-k',
  '--shiki-light:#0A3069;--shiki-dark:#A5D6FF': 'tk-s',
  '--shiki-light:#0550AE;--shiki-dark:#79C0FF': 'tk-c',
  '--shiki-light:#8250DF;--shiki-dark:#D2A8FF': 'tk-f',
  '--shiki-light:#6E7781;--shiki-dark:#8B949E': 'tk-m',
  '--shiki-light:#953800;--shiki-dark:#FFA657': 'tk-v',
};

export function tokenClassTransformer(): ShikiTransformer {
  return {
    name: 'asynclab:token-classes',
    span(node) {
      const style = node.properties.style;
      if (typeof style !== 'string') return;
      if (style === plainTokenStyle) {
        delete node.properties.style;
        return;
      }
      const cls = tokenClasses[style];
      if (!cls) return;
      delete node.properties.style;
      this.addClassToHast(node, cls);
    },
    code(node) {
      node.children = node.children.flatMap((child) => (isLine(child) ? mergeTokens(child.children) : [child]));
    },
  };
}

/** Shiki's class property (`class`, a string or a list; `className` after other tools), as one string. */
function classOf(node: Element): string {
  const value = node.properties.class ?? node.properties.className;
  return Array.isArray(value) ? value.join(' ') : typeof value === 'string' ? value : '';
}

const isLine = (node: ElementContent): node is Element => node.type === 'element' && node.tagName === 'span' && classOf(node) === 'line';

/** A token: a span holding only text. */
const isToken = (node: ElementContent | undefined): node is Element & { children: [{ type: 'text'; value: string }] } =>
  node?.type === 'element' && node.tagName === 'span' && node.children.length === 1 && node.children[0]!.type === 'text';

/** What distinguishes a token's look: its class and style; null (joins nothing) for a token with any other attribute. */
function lookOf(node: Element): string | null {
  const { class: _class, className: _className, style, ...rest } = node.properties;
  if (Object.keys(rest).length) return null;
  return `${classOf(node)}|${typeof style === 'string' ? style : ''}`;
}

/**
 * A line's tokens with text-colour tokens unwrapped and runs of one look joined into one span;
 * spaces between two tokens join the one before (a space shows no colour).
 */
export function mergeTokens(tokens: ElementContent[]): ElementContent[] {
  const out: ElementContent[] = [];
  for (const token of tokens) {
    const last = out[out.length - 1];
    if (!isToken(token)) {
      out.push(token);
      continue;
    }
    const text = token.children[0].value;
    const look = lookOf(token);
    if (look === '|') {
      if (last?.type === 'text') last.value += text;
      else if (isToken(last) && lookOf(last) !== null && !last.properties.style && /^[ \t]+$/.test(text)) last.children[0].value += text;
      else out.push({ type: 'text', value: text });
    } else if (look !== null && isToken(last) && lookOf(last) === look) {
      last.children[0].value += text;
    } else {
      out.push({ ...token, children: [{ type: 'text', value: text }] });
    }
  }
  return out;
}
