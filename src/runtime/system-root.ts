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

/**
 * argv run with `root` as the system, for the runner's own tools (the benchmark's floors):
 * no network, a private /tmp, and each of `binds` at the same path as on the host.
 * With root `/` (the host's own system) it is argv itself.
 */
export function inRootArgv(bwrap: string | undefined, root: string, argv: readonly string[], binds: readonly string[] = []): string[] {
  if (root === '/' || !bwrap) return [...argv];
  return [
    bwrap,
    '--unshare-all',
    '--die-with-parent',
    ...systemBinds(root),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    ...binds.flatMap((dir) => ['--bind', dir, dir]),
    '--',
    ...argv,
  ];
}
