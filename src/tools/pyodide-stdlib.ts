/**
 * The build's Python standard library for the Pyodide engine: the npm package's
 * python_stdlib.zip holds sources only, so every boot compiles the ~130 modules Pyodide
 * and the harness import — most of the boot's CPU time. This writes a copy that also holds
 * their bytecode (.pyc, checked against nothing: the zip never changes at its URL), and
 * leaves out packages a sandbox cannot use in a browser worker (no terminal, no GUI, no
 * pip; multiprocessing stays: the harness patches its pool). The sources stay, so tracebacks still show each line.
 *
 * The bytecode must come from the same CPython as the wasm (3.14 in Pyodide, not the host's
 * python3), so the copy is made inside Pyodide itself, under Node.
 */
import type { loadPyodide as LoadPyodide } from 'pyodide';
import { harnessFileNames, PyodideSession, type HarnessFiles } from '../engines/pyodide-session.ts';

/** Top-level names nothing in a browser worker can use; dropped from the zip. */
export const droppedStdlib = ['_pyrepl', 'pydoc_data', 'idlelib', 'tkinter', 'turtledemo', 'ensurepip', 'lib2to3', 'test', 'venv', 'turtle.py'] as const;

/** Modules every run imports (the harness's run step) or sandboxes often do, beyond what the boot imports. */
const alsoCompiled = ['traceback', 'json', 'contextlib', 'functools', 'itertools', 'concurrent.futures', 'random', 'dataclasses', 'logging'];

export interface StdlibSummary {
  /** How many modules got bytecode. */
  compiled: number;
  dropped: number;
}

/**
 * Boots Pyodide (with the harness, as the page does) and returns the rebuilt stdlib zip.
 * Entries stay deflated, as in the package: static hosts rarely compress a .zip on the wire
 * (stored entries sent brotli-compressed would be ~30 % smaller, but 12 MB where not).
 */
export async function buildStdlibZip(load: typeof LoadPyodide, harness: HarnessFiles): Promise<{ zip: Uint8Array; summary: StdlibSummary }> {
  for (const name of harnessFileNames) if (harness[name] === undefined) throw new Error(`missing harness file ${name}`);
  const session = await PyodideSession.boot(load, { harness });
  const result = session.evaluate(`
import importlib, importlib.util, io, marshal, sys, zipfile
for name in ${JSON.stringify(alsoCompiled)}:
    importlib.import_module(name)
stdlib = next(p for p in sys.path if p.endswith('.zip'))
prefix = stdlib + '/'
hot = {m.__spec__.origin[len(prefix):] for m in list(sys.modules.values())
       if getattr(m, '__spec__', None) and (m.__spec__.origin or '').startswith(prefix)}
dropped = set(${JSON.stringify(droppedStdlib)})
source = zipfile.ZipFile(stdlib)
out = io.BytesIO()
compiled = skipped = 0
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as target:
    for info in source.infolist():
        if info.filename.split('/')[0] in dropped:
            skipped += 1
            continue
        data = source.read(info)
        target.writestr(zipfile.ZipInfo(info.filename, info.date_time), data, zipfile.ZIP_DEFLATED if not info.is_dir() else zipfile.ZIP_STORED)
        if info.filename in hot and info.filename.endswith('.py'):
            # What py_compile writes for --invalidation-mode unchecked-hash (PEP 552).
            code = compile(data, prefix + info.filename, 'exec', dont_inherit=True)  # the name zipimport gives the source
            pyc = importlib.util.MAGIC_NUMBER + (1).to_bytes(4, 'little') + importlib.util.source_hash(data) + marshal.dumps(code)
            target.writestr(zipfile.ZipInfo(info.filename[:-3] + '.pyc', info.date_time), pyc, zipfile.ZIP_DEFLATED)
            compiled += 1
(bytes(out.getbuffer()), compiled, skipped)
`) as { toJs(): [Uint8Array, number, number]; destroy(): void };
  const [zip, compiled, dropped] = result.toJs();
  result.destroy();
  return { zip: new Uint8Array(zip), summary: { compiled, dropped } };
}
