/**
 * What a WebContainer mounts for one run: the Node harness under `harness/` (once per
 * container) and the sandbox's files under `work/` (fresh for every run), in the
 * `FileSystemTree` shape of @webcontainer/api.
 */
import type { DirectoryNode, FileNode, FileSystemTree } from '@webcontainer/api';
import type { SandboxFiles } from '../protocol/manifest.ts';
import { isSafeRelativePath } from '../protocol/manifest-rules.ts';

/** Folders inside the container's workdir. */
export const containerLayout = { harness: 'harness', work: 'work' } as const;

/** `{ 'lib/util.mjs': '…' }` → `{ lib: { directory: { 'util.mjs': { file: { contents } } } } }`. */
export function toFileSystemTree(files: Record<string, string>): FileSystemTree {
  const tree: FileSystemTree = {};
  for (const [name, contents] of Object.entries(files)) {
    if (!isSafeRelativePath(name)) throw new Error(`unsafe file name for a WebContainer: ${JSON.stringify(name)}`);
    const parts = name.split('/');
    const file = parts.pop()!;
    let dir = tree;
    for (const part of parts) {
      const node = (dir[part] ??= { directory: {} });
      if (!('directory' in node)) throw new Error(`${name}: ${part} is both a file and a folder`);
      dir = (node as DirectoryNode).directory;
    }
    if (dir[file]) throw new Error(`${name}: ${file} is both a file and a folder`);
    dir[file] = { file: { contents } } satisfies FileNode;
  }
  return tree;
}

/** The harness tree: `node/*.mjs` beside the shared `upstream.mjs`, as in sandboxes/_harness/. */
export function harnessTree(nodeFiles: Record<string, string>, upstream: string): FileSystemTree {
  return { [containerLayout.harness]: { directory: { node: { directory: toFileSystemTree(nodeFiles) }, 'upstream.mjs': { file: { contents: upstream } } } } };
}

/** The sandbox's own files for one run. */
export function workTree(files: SandboxFiles): FileSystemTree {
  return { [containerLayout.work]: { directory: toFileSystemTree(files) } };
}
