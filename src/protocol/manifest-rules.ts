/**
 * Rules about sandboxes that the browser needs too, kept free of zod so the page's
 * engines can import them without the schema library.
 */
import type { SandboxManifest } from './manifest.ts';

/** Relative, forward-slash, no `..`, no hidden or odd characters: safe to join under a job directory. */
export function isSafeRelativePath(p: string): boolean {
  if (p.length === 0 || p.length > 200 || p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((part) => /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(part) && part !== '..' && part !== '.');
}

/** The default wall-time limit: servers get longer, since they boot and then take load. */
export function defaultTimeoutMs(m: Pick<SandboxManifest, 'kind' | 'timeoutMs'>): number {
  return m.timeoutMs ?? (m.kind === 'server' ? 30_000 : 20_000);
}
