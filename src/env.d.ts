/** URL of Monaco's stylesheet in a build; empty in dev (see src/tools/vite-lazy-monaco-css.ts). */
declare module 'virtual:monaco-css-url' {
  const url: string;
  export default url;
}
declare module 'virtual:pyodide-assets' {
  /** Site path of the copied pyodide package, ending with `/` (src/tools/pyodide-assets.ts). */
  export const pyodideAssetsUrl: string;
  /** The pyodide package's lock-file `info` (ABI version…): the engine's empty lock file carries it. */
  export const pyodideLockInfo: import('pyodide').LockfileInfo;
}
