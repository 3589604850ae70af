/** URL of Monaco's stylesheet in a build; empty in dev (see src/tools/vite-lazy-monaco-css.ts). */
declare module 'virtual:monaco-css-url' {
  const url: string;
  export default url;
}
