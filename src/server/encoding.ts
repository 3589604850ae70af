/**
 * Content codings: which files are worth compressing, and which coding a request accepts.
 * Shared by the build's precompression step (src/tools/precompress.ts) and the server
 * (src/server/site.ts), so both agree on what has a `.br`/`.gz` beside it.
 */
import path from 'node:path';

export type Coding = 'br' | 'gzip';

/** The file suffix of each coding's precompressed variant. */
export const codingSuffix: Record<Coding, string> = { br: '.br', gzip: '.gz' };

/** Our preference when a client accepts several equally: brotli is 10–20 % smaller on our pages. */
const preference: readonly Coding[] = ['br', 'gzip'];

/** Text, wasm and TrueType fonts (Monaco's codicon.ttf: 153 kB, 67 kB as brotli) compress well; images, zips and Pagefind's (already gzipped) index files do not. */
const compressibleExtensions = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.wasm', '.ttf', '.txt', '.xml', '.map', '.webmanifest']);

/** Below this a compressed response saves less than its headers and the client's work cost. */
export const minCompressBytes = 1024;

export function isCompressible(file: string, size: number): boolean {
  return size >= minCompressBytes && compressibleExtensions.has(path.extname(file).toLowerCase());
}

/**
 * The `q` of each coding named in an Accept-Encoding header (RFC 9110 §12.5.3), lower-cased,
 * `x-gzip` read as `gzip`. A malformed or out-of-range q counts as 0 (not acceptable): a
 * client that sends nonsense gets the plain file, never a coding it may not decode.
 */
export function parseAcceptEncoding(header: string): Map<string, number> {
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [rawName, ...params] = part.split(';');
    let name = rawName!.trim().toLowerCase();
    if (!name) continue;
    if (name === 'x-gzip') name = 'gzip';
    let q = 1;
    for (const param of params) {
      const m = /^\s*q\s*=\s*(.*?)\s*$/i.exec(param);
      if (!m) continue;
      q = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(m[1]!) ? Number(m[1]) : 0;
    }
    // The first mention wins, as in most servers; a repeated name does not raise or lower it.
    if (!weights.has(name)) weights.set(name, q);
  }
  return weights;
}

/**
 * The coding to answer with, among those `available` for this resource, or `undefined` for the
 * identity (uncompressed) body: the highest q wins, ties go to brotli, then gzip, then identity.
 * No header means identity (allowed by RFC 9110, and what every client that never asks expects).
 */
export function negotiateEncoding(header: string | undefined, available: readonly Coding[]): Coding | undefined {
  if (!header || available.length === 0) return undefined;
  const weights = parseAcceptEncoding(header);
  const star = weights.get('*');
  const qOf = (name: string) => weights.get(name) ?? star ?? 0;
  // identity is acceptable unless refused by name or by `*;q=0` (RFC 9110 §12.5.3); unnamed, it
  // ranks below any coding the client named, so `gzip, br` means "compressed, please".
  const identityQ = weights.get('identity') ?? (star === 0 ? 0 : Number.MIN_VALUE);
  let best: Coding | undefined;
  let bestQ = 0;
  for (const coding of preference) {
    const q = available.includes(coding) ? qOf(coding) : 0;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  // A tie with identity goes to the coding; when nothing is acceptable, identity is still sent
  // (a 406 would leave the reader with nothing), never a coding the client refused.
  return best !== undefined && bestQ >= identityQ ? best : undefined;
}
