/**
 * What the runner's own files a sandbox sees (the language harness, the Node binary) are
 * bound from copies in the runner's private work root, never from the checkout: inside a
 * sandbox /proc/self/mountinfo shows the host source path of every bind mount, and the
 * checkout's path names the user's home and layout (/home/alice/code/asynclab/...). The
 * work root is a temp directory with a random name: all it tells is that a runner runs.
 */
import { constants } from 'node:fs';
import { copyFile, cp, link, mkdir } from 'node:fs/promises';
import path from 'node:path';

export interface PrivateCopies {
  /** The harness (sandboxes/_harness) copied into the work root. */
  harness: string;
  /** The Node binary: a hard link into the work root where it is on the same filesystem, else a copy. */
  node: string;
  /** How the binary got there, for the record (a copy costs ~0.1 s and 120 MB of the temp filesystem). */
  nodeBy: 'link' | 'copy';
}

export async function makePrivateCopies(workRoot: string, sources: { harness: string; node: string }): Promise<PrivateCopies> {
  const harness = path.join(workRoot, 'harness');
  // Plain files and folders only (the harness has no links); modes are kept, so it stays world-readable.
  await cp(sources.harness, harness, { recursive: true, verbatimSymlinks: true, errorOnExist: true });
  await mkdir(path.join(workRoot, 'bin'), { mode: 0o755 });
  const node = path.join(workRoot, 'bin', 'node');
  let nodeBy: PrivateCopies['nodeBy'] = 'link';
  try {
    // A second name for the same file: free, and the sandbox's mount shows only this name.
    await link(sources.node, node);
  } catch {
    // Another filesystem (EXDEV), or a binary this user may not link (protected_hardlinks).
    await copyFile(sources.node, node, constants.COPYFILE_FICLONE);
    nodeBy = 'copy';
  }
  return { harness, node, nodeBy };
}
