/**
 * Serves the `pyodide` npm package from the site itself (no CDN: the in-browser Python
 * engine must work offline and on any static host). The build copies the files the
 * engine loads into `dist/_pyodide/<version>/`; the dev server serves the same path from
 * node_modules; `virtual:pyodide-assets` tells the client where they are. The path
 * carries the version, so hosts may cache the files forever. The build's python_stdlib.zip
 * is the package's plus bytecode (pyodide-stdlib.ts); the dev server sends the package's.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AstroIntegration } from 'astro';
import type { Lockfile, LockfileInfo } from 'pyodide';
import type { Plugin } from 'vite';
import { harnessFileNames, type HarnessFiles } from '../engines/pyodide-session.ts';
import { buildStdlibZip } from './pyodide-stdlib.ts';

/**
 * What loadPyodide fetches for a stdlib-only interpreter (no wheels: there is no index to
 * fetch them from). Not the package lock file (119 kB): the engine hands Pyodide an empty
 * one made from its `info` (`pyodideLockInfo`), since it never installs a package.
 */
export const pyodideFiles = ['pyodide.mjs', 'pyodide.asm.mjs', 'pyodide.asm.wasm', 'python_stdlib.zip'] as const;

const virtualId = 'virtual:pyodide-assets';
// application/wasm matters: without it browsers refuse to compile the wasm as it streams in.
const contentTypes: Record<string, string> = {
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.zip': 'application/zip',
};

const harnessDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'sandboxes', '_harness', 'python');

async function readHarness(): Promise<HarnessFiles> {
  const files: HarnessFiles = {};
  for (const name of harnessFileNames) files[name] = await readFile(path.join(harnessDir, name), 'utf8');
  return files;
}

export function pyodidePackage(): { dir: string; version: string; lockInfo: LockfileInfo } {
  const require = createRequire(import.meta.url);
  const dir = path.dirname(require.resolve('pyodide/package.json'));
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  const { info } = JSON.parse(readFileSync(path.join(dir, 'pyodide-lock.json'), 'utf8')) as Lockfile;
  return { dir, version, lockInfo: info };
}

/** The site path of the assets, e.g. `/_pyodide/314.0.7/`. */
export const pyodideAssetsPath = (base: string, version: string) => `${base.replace(/\/?$/, '/')}_pyodide/${version}/`;

function vitePlugin(dir: string, assetsPath: string, lockInfo: LockfileInfo): Plugin {
  return {
    name: 'asynclab:pyodide-assets',
    resolveId: (id) => (id === virtualId ? `\0${virtualId}` : undefined),
    load: (id) => (id === `\0${virtualId}` ? `export const pyodideAssetsUrl = ${JSON.stringify(assetsPath)};\nexport const pyodideLockInfo = ${JSON.stringify(lockInfo)};` : undefined),
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = (req.url ?? '').split('?')[0]!;
        if (!url.startsWith(assetsPath)) return next();
        const name = url.slice(assetsPath.length);
        if (!(pyodideFiles as readonly string[]).includes(name)) return next();
        res.setHeader('Content-Type', contentTypes[path.extname(name)] ?? 'application/octet-stream');
        res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
        createReadStream(path.join(dir, name)).pipe(res);
      });
    },
  };
}

export function pyodideAssets(): AstroIntegration {
  const { dir, version, lockInfo } = pyodidePackage();
  let assetsPath = pyodideAssetsPath('/', version);
  return {
    name: 'asynclab:pyodide-assets',
    hooks: {
      'astro:config:setup': ({ config, updateConfig }) => {
        assetsPath = pyodideAssetsPath(config.base, version);
        updateConfig({ vite: { plugins: [vitePlugin(dir, assetsPath, lockInfo)] } });
      },
      'astro:build:done': async ({ dir: outDir, logger }) => {
        const target = path.join(fileURLToPath(outDir), ...assetsPath.split('/').filter(Boolean).slice(-2));
        await mkdir(target, { recursive: true });
        await Promise.all(pyodideFiles.map((name) => copyFile(path.join(dir, name), path.join(target, name))));
        logger.info(`copied Pyodide ${version} (${pyodideFiles.length} files) to ${path.relative(process.cwd(), target)}`);
        // The stdlib with bytecode for what every boot imports (pyodide-stdlib.ts): a third of the boot's CPU.
        const started = performance.now();
        const { zip, summary } = await buildStdlibZip((await import('pyodide')).loadPyodide, await readHarness());
        await writeFile(path.join(target, 'python_stdlib.zip'), zip);
        logger.info(`python_stdlib.zip: bytecode for ${summary.compiled} modules, ${summary.dropped} entries left out, ${(zip.length / 1024).toFixed(0)} KiB (${((performance.now() - started) / 1000).toFixed(1)} s)`);
      },
    },
  };
}
