/**
 * bubblewrap arguments that make a root filesystem the system a process sees: its /usr,
 * read-only, with the merged-/usr links (/bin, /sbin, /lib, /lib64) pointing into it.
 * The sandboxes, the service servers and the runtime check all start through these, so
 * all of them run the pinned Debian root's programs whatever the host is. Root `/`
 * means the host's own /usr (the RUNNER_PYTHON escape hatch).
 */
import path from 'node:path';

export function systemBinds(root: string): string[] {
  return [
    '--ro-bind',
    path.join(root, 'usr'),
    '/usr',
    '--symlink',
    'usr/bin',
    '/bin',
    '--symlink',
    'usr/sbin',
    '/sbin',
    '--symlink',
    'usr/lib',
    '/lib',
    '--symlink',
    'usr/lib64',
    '/lib64',
  ];
}

/**
 * The runtime's CA certificates, over the synthetic /etc: HTTP clients (httpx, aiohttp)
 * load them when they are created, as on any real machine, so creating a client costs in
 * a sandbox what it costs in production. The synthetic /etc needs an empty `ssl`
 * folder to mount them on (see `etcMountPoints`).
 */
export function sslBinds(root: string): string[] {
  return ['--ro-bind-try', path.join(root, 'etc', 'ssl'), '/etc/ssl'];
}

/** Folders a synthetic /etc must contain, empty, for the binds above. */
export const etcMountPoints = ['ssl'] as const;

/** A synthetic /etc's files for one account: enough for user lookups and `localhost`, nothing of the host's. */
export function etcFilesFor(account: { name: string; uid: number; gid: number; home: string }): Record<string, string> {
  return {
    hosts: '127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost\n',
    passwd: `${account.name}:x:${account.uid}:${account.gid}:${account.name}:${account.home}:/usr/sbin/nologin\n`,
    group: `${account.name}:x:${account.gid}:\n`,
    'nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files\n',
  };
}

export interface RootedOptions {
  /** A synthetic /etc (folder), bound read-only; the root's CA certificates go over its `ssl` mount point. */
  etc?: string | undefined;
  /** Host folders bound read-write at the same path. */
  binds?: readonly string[];
  /** Run as this uid and gid in a user namespace of its own. */
  uid?: number;
  chdir?: string;
  env?: Record<string, string>;
}

/**
 * bubblewrap arguments (after the program, before `--` and the argv) that run a program
 * of the root's: its /usr as the system, no network (everything here talks over Unix
 * sockets or not at all), fresh /proc and /dev, a private /tmp. The runtime check, the
 * service servers and the benchmark's floors all start this way; the sandboxes add their
 * own limits on top (src/runner/sandbox-command.ts).
 */
export function rootedArgs(root: string, o: RootedOptions = {}): string[] {
  const uid = o.uid === undefined ? [] : ['--unshare-user', '--uid', String(o.uid), '--gid', String(o.uid)];
  return [
    '--unshare-all',
    ...uid,
    '--die-with-parent',
    ...systemBinds(root),
    ...(o.etc ? ['--ro-bind', o.etc, '/etc', ...sslBinds(root)] : []),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    ...(o.binds ?? []).flatMap((dir) => ['--bind', dir, dir]),
    ...(o.chdir ? ['--chdir', o.chdir] : []),
    ...Object.entries(o.env ?? {}).flatMap(([k, v]) => ['--setenv', k, v]),
  ];
}

/** argv run with `root` as the system (see `rootedArgs`); with root `/` (the host's own) or no bwrap, argv itself. */
export function inRootArgv(bwrap: string | undefined, root: string, argv: readonly string[], binds: readonly string[] = []): string[] {
  if (root === '/' || !bwrap) return [...argv];
  return [bwrap, ...rootedArgs(root, { binds }), '--', ...argv];
}
