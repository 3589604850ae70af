/**
 * The build's last step (`npm run build`, after Pagefind): a `.br` and a `.gz` beside every
 * compressible file of `dist/` above 1 KiB, so `npm start`'s server and any static host that
 * looks for them (nginx `gzip_static`/`brotli_static`, Caddy `precompressed`) send compressed
 * bytes without compressing per request. A variant that would not be at least 5 % smaller is
 * not written (and an old one is removed), so the server never prefers a useless one.
 *
 *   node src/tools/precompress.ts [dist]
 */
import { availableParallelism } from 'node:os';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { codingSuffix, isCompressible, type Coding } from '../server/encoding.ts';

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * Brotli quality 10 is within ~4 % of 11 on our pages at a third of the time (0.2 s vs 0.7 s for a
 * 260 kB page). Above this size (only Pyodide's 9.6 MB wasm) the window grows to 16 MiB: quality 10
 * then sends 2.86 MB instead of quality 5's 3.23 MB (every first Python run saves 0.36 MB) for
 * ~15 s more build on two cores; quality 11 would save 0.1 MB more for twice that.
 */
const largeBytes = 4 * 1024 * 1024;

export function compress(body: Buffer, coding: Coding): Promise<Buffer> {
  if (coding === 'gzip') return gzip(body, { level: 9 });
  return brotli(body, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 10,
      ...(body.length > largeBytes ? { [zlib.constants.BROTLI_PARAM_LGWIN]: 24 } : {}),
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
    },
  });
}

export interface PrecompressSummary {
  files: number;
  bytes: number;
  br: number;
  gzip: number;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** Writes (or removes) each file's `.br` and `.gz`; returns the totals, in bytes, for the log. */
export async function precompress(root: string): Promise<PrecompressSummary> {
  const all = await filesUnder(root);
  const variants = new Set(Object.values(codingSuffix));
  const sources = all.filter((f) => !variants.has(path.extname(f)));
  // Variants left from an earlier build whose file is gone.
  const present = new Set(sources);
  await Promise.all(all.filter((f) => variants.has(path.extname(f)) && !present.has(f.slice(0, -path.extname(f).length))).map((f) => rm(f)));

  const summary: PrecompressSummary = { files: 0, bytes: 0, br: 0, gzip: 0 };
  const queue: string[] = [];
  for (const file of sources) if (isCompressible(file, (await stat(file)).size)) queue.push(file);
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const body = await readFile(file);
      summary.files++;
      summary.bytes += body.length;
      for (const coding of ['br', 'gzip'] as const) {
        const target = file + codingSuffix[coding];
        const packed = await compress(body, coding);
        if (packed.length <= body.length * 0.95) {
          await writeFile(target, packed);
          summary[coding] += packed.length;
        } else {
          await rm(target, { force: true });
          summary[coding] += body.length;
        }
      }
    }
  };
  // zlib's async calls run on libuv's pool; a couple at a time is as fast as it gets on small machines.
  await Promise.all(Array.from({ length: Math.min(4, availableParallelism()) }, worker));
  return summary;
}

if (import.meta.main) {
  const root = path.resolve(process.argv[2] ?? 'dist');
  const started = performance.now();
  const s = await precompress(root);
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(
    `precompress: ${s.files} files, ${kb(s.bytes)} → brotli ${kb(s.br)}, gzip ${kb(s.gzip)} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
}
