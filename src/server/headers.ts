/**
 * Headers that make every page cross-origin isolated (`crossOriginIsolated === true`),
 * which WebContainers and SharedArrayBuffer need. Sent by `src/server`, by `astro dev`
 * and `astro preview`, and mirrored in `public/_headers` for static hosts
 * (a unit test keeps the two in step).
 */
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;
