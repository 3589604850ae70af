/**
 * Code colours as classes, not per-token inline styles. Shiki writes each token's two colours
 * (light and dark theme) into a `style` attribute, and a long lesson has thousands of tokens;
 * the themes use only a handful of pairs, so each known pair becomes a short class whose
 * variables are set once in global.css ("code token colours"), and the commonest pair (the
 * themes' own text colour, which the block already sets) needs nothing at all. A pair not in
 * the table keeps its inline style, so a new theme or language still shows its colours.
 */
import type { ShikiTransformer } from 'shiki';

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
  };
}
