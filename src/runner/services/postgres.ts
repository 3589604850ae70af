/**
 * A PostgreSQL server of its own for every run that needs one. `initdb` runs once per
 * runner, into a template that already holds the run's role and database; each run then
 * copies that template onto a size-bounded tmpfs and starts a server on it, as the
 * `postgres` account (never root), listening on a Unix socket only, inside the run's
 * cgroup. So a run's sorts, hashes, tables, temp files and connections are limited by its
 * own budget, an out-of-memory kill there ends only its own backend, and there are no other
 * runs on its server to see.
 *
 * Who may connect (pg_hba.conf): the admin account by peer credentials only (the runner's
 * psql runs as that OS user; sandboxes appear to the host as another uid), and the run's
 * role only to its own database, with its password. The password is one per runner: the
 * socket, bind-mounted into this one run's sandbox, is what keeps other runs out.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { postgresReady } from './pg-ping.ts';
import { executable, privateDir, runAs, shareWithSandboxes, serviceAccount, setprivPath, startServer, waitUntil, type Account, type ServerProcess, type ServiceSystem } from './service-process.ts';
import { quoteLiteral, scramVerifier } from './sql.ts';
import { ServiceUnavailableError, type PathView, type ServicePlacement } from './types.ts';
import { ServerService } from './server-service.ts';

export interface PostgresOptions {
  /** Directory with postgres, initdb and psql as the server sees it; default: the newest /usr/lib/postgresql/<v>/bin. */
  binDir?: string;
  /** The runtime root the server runs in (its /usr/lib/postgresql is searched); absent: the host's. */
  system?: ServiceSystem | undefined;
}

/** Where a sandbox finds the socket: libpq's and asyncpg's default directory on Debian. */
export const postgresSocketInside = '/run/postgresql';
const port = 5432; // only names the socket file (.s.PGSQL.5432): there is no TCP listener
const socketFile = `.s.PGSQL.${port}`;
const MiB = 1024 * 1024;

/** The run's role and its database (one server per run: the name need not be unique). */
export const postgresRunRole = 'asynclab';

/**
 * What one run's server allows. The cgroup (the run's memory, pids and CPU) bounds what
 * settings cannot: `work_mem` and `hash_mem_multiplier` are settable by any role.
 */
export const postgresLimits = {
  /** Sessions the run's role may hold (its CONNECTION LIMIT; max_connections adds the admin's reserve). */
  connections: 10,
  /** The data directory's tmpfs (template included): past it, writes fail with "No space left on device". */
  dataBytes: 64 * MiB,
  /** Temporary files per session (sorts and hashes spilling to disk); superuser-only, the role cannot raise it. */
  tempFileLimit: '16MB',
  /** The role's default; it may SET a longer one, but the server lives no longer than the run. */
  statementTimeout: '30s',
  sharedBuffers: '16MB',
} as const;

/** Reserved for the runner (superuser_reserved_connections): a run holding all its sessions cannot lock it out. */
const adminConnections = 2;

/**
 * Processes the server may add to the run's pids budget: one per session (the run's and the
 * runner's), and the 6 of an idle server (bubblewrap's two, the postmaster, checkpointer,
 * background writer, WAL writer) with room for a transient one.
 */
export const postgresProcesses = postgresLimits.connections + adminConnections + 8;

/** The newest Debian-style PostgreSQL bin directory with the three programs we use, as seen inside `root`. */
export function findPostgresBin(root = '/'): string | undefined {
  let versions: string[] = [];
  try {
    versions = readdirSync(path.join(root, 'usr/lib/postgresql')).filter((v) => /^\d+$/.test(v));
  } catch {
    return undefined;
  }
  for (const version of versions.sort((a, b) => Number(b) - Number(a))) {
    const bin = path.posix.join('/usr/lib/postgresql', version, 'bin');
    if (['postgres', 'initdb', 'psql'].every((p) => executable(path.join(root, bin, p)))) return bin;
  }
  return undefined;
}

const unavailable = (detail: string) => new ServiceUnavailableError('postgres', detail);

/** Server settings, the same for every run's server. */
function serverSettings(socketDir: string): Record<string, string> {
  return {
    listen_addresses: '', // no TCP at all
    port: String(port),
    unix_socket_directories: socketDir,
    // The directories around it (0710, group root) keep host users out; the sandbox comes in through a bind mount.
    unix_socket_permissions: '0777',
    password_encryption: 'scram-sha-256',
    // The data lives as long as the run: durability buys nothing.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    shared_buffers: postgresLimits.sharedBuffers,
    max_connections: String(postgresLimits.connections + adminConnections),
    superuser_reserved_connections: String(adminConnections),
    temp_file_limit: postgresLimits.tempFileLimit,
    // Small WAL (1 MiB segments, recycled early): it shares the data tmpfs with the run's tables.
    wal_level: 'minimal',
    max_wal_senders: '0',
    min_wal_size: '2MB',
    max_wal_size: '8MB',
    // No parallel workers: each is another process and more memory, for tables this small.
    max_worker_processes: '0',
    max_parallel_workers: '0',
    max_parallel_workers_per_gather: '0',
    autovacuum: 'off',
    jit: 'off',
    log_min_error_statement: 'panic', // a run's failing SQL is its own business, not the log's
  };
}

/** The once-per-runner part: an initialised, configured cluster each run's server starts from a copy of. */
export class PostgresTemplate {
  readonly binDir: string;
  readonly system: ServiceSystem | undefined;
  readonly account: Account;
  /** Holds `data/` (the cluster); removed by `remove()`. */
  readonly dir: string;
  /** The run role's password (its SCRAM verifier is in the template). */
  readonly password: string;
  readonly prepareMs: number;

  private constructor(parts: { binDir: string; system: ServiceSystem | undefined; account: Account; dir: string; password: string; prepareMs: number }) {
    this.binDir = parts.binDir;
    this.system = parts.system;
    this.account = parts.account;
    this.dir = parts.dir;
    this.password = parts.password;
    this.prepareMs = parts.prepareMs;
  }

  get data(): string {
    return path.join(this.dir, 'data');
  }

  /** initdb, then (in single-user mode: no server, no socket) the run's role and database. */
  static async prepare(options: PostgresOptions = {}): Promise<PostgresTemplate> {
    const system = options.system;
    const root = system?.root ?? '/';
    const binDir = options.binDir ?? findPostgresBin(root);
    if (!binDir || !['postgres', 'initdb', 'psql'].every((p) => executable(path.join(root, binDir, p)))) {
      const where = system ? `the sandbox runtime at ${root} has` : 'this machine has';
      throw unavailable(`${where} no PostgreSQL server${binDir ? ` (no postgres, initdb and psql in ${binDir})` : ''}`);
    }
    if (!executable(setprivPath)) throw unavailable('setpriv is missing (apt-get install util-linux)');
    const account = serviceAccount(['postgres']);
    if (!account) throw unavailable('no unprivileged account to run it as');

    const started = performance.now();
    const dir = await privateDir('postgres', account);
    const data = path.join(dir, 'data');
    const password = randomBytes(24).toString('base64url');
    try {
      // --no-sync: the template is copied, never crash-recovered. 1 MiB WAL segments: a run's copy stays small.
      await runAs(account, [path.join(binDir, 'initdb'), '-D', data, '-U', account.name, '-E', 'UTF8', '--no-locale', '--auth-local=peer', '--auth-host=reject', '--no-sync', '--no-instructions', '--wal-segsize=1'], { cwd: dir, timeoutMs: 60_000, system });
      const hba = [
        '# Written by the AsyncLab runner. TYPE  DATABASE  USER  METHOD',
        `local all ${account.name} peer`,
        `local ${postgresRunRole} ${postgresRunRole} scram-sha-256`,
        '',
      ].join('\n');
      await writeFile(path.join(data, 'pg_hba.conf'), hba, { mode: 0o600 });
      if (process.getuid?.() === 0) await chown(path.join(data, 'pg_hba.conf'), account.uid, account.gid);
      const role = postgresRunRole; // a plain lowercase identifier: needs no quoting
      const statements = [
        `CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT ${postgresLimits.connections} PASSWORD ${quoteLiteral(scramVerifier(password))}`,
        `ALTER ROLE ${role} SET statement_timeout = ${quoteLiteral(postgresLimits.statementTimeout)}`,
        `CREATE DATABASE ${role} OWNER ${role}`,
        // Every run's copy is smaller without it (the admin connects to the run's database).
        'DROP DATABASE postgres',
        'REVOKE ALL ON DATABASE template1 FROM PUBLIC',
        `REVOKE ALL ON DATABASE ${role} FROM PUBLIC`,
        // A clean shutdown record, so each run's copy starts without recovery.
        'CHECKPOINT',
        '',
      ].join('\n');
      // Single-user mode reads one statement per line from stdin.
      await runAs(account, [path.join(binDir, 'postgres'), '--single', '-D', data, '-c', 'fsync=off', '-c', 'exit_on_error=on', 'template1'], { cwd: dir, input: statements, timeoutMs: 60_000, system });
      return new PostgresTemplate({ binDir, system, account, dir, password, prepareMs: Math.round(performance.now() - started) });
    } catch (err) {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw err instanceof ServiceUnavailableError ? err : unavailable(`it could not be set up: ${(err as Error).message}`);
    }
  }

  /** A server for one run, from a copy of the template, inside `placement`'s cgroup. */
  async start(placement: ServicePlacement): Promise<Postgres> {
    const { account, system, binDir } = this;
    const started = performance.now();
    const dir = await privateDir('postgres', account);
    const data = path.join(dir, 'data');
    const socketDir = path.join(dir, 'socket');
    let server: ServerProcess | undefined;
    try {
      await mkdir(socketDir);
      await shareWithSandboxes(socketDir, account);
      await mkdir(data, { mode: 0o700 });
      if (process.getuid?.() === 0) await chown(data, account.uid, account.gid);
      const args = Object.entries(serverSettings(socketDir)).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
      // Copy, then become the server: the copy's pages are charged to the run's cgroup, like everything after.
      const argv = ['/bin/sh', '-c', 'cp -a -- "$1"/. "$2"/ && shift 2 && exec "$@"', 'asynclab-postgres', this.data, data, path.join(binDir, 'postgres'), '-D', data, ...args];
      // SIGINT on runner death = fast shutdown: sessions are ended, the server exits.
      server = startServer(account, argv, {
        cwd: dir,
        deathSignal: 'SIGINT',
        system,
        mounts: { readOnly: [this.dir], tmpfs: [{ path: data, bytes: postgresLimits.dataBytes }] },
        cgroupProcs: placement.cgroupProcs,
      });
      const up = server;
      await waitUntil(up, () => postgresReady(path.join(socketDir, socketFile), account.name), 30_000);
      return new Postgres({ template: this, socketDir, server: up, dir, view: placement.view, startMs: Math.round(performance.now() - started) });
    } catch (err) {
      await server?.stop('SIGKILL', 1000);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw unavailable(`it did not start: ${(err as Error).message}`);
    }
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

export class Postgres extends ServerService {
  readonly name = 'postgres' as const;
  private readonly template: PostgresTemplate;
  private readonly socketDir: string;

  constructor(parts: { template: PostgresTemplate; socketDir: string; server: ServerProcess; dir: string; view: PathView; startMs: number }) {
    const { template, socketDir, view } = parts;
    const name = postgresRunRole;
    const password = template.password;
    const socketSeen = view === 'sandbox' ? postgresSocketInside : socketDir;
    super({
      server: parts.server,
      dir: parts.dir,
      startMs: parts.startMs,
      // The socket dir is a fixed path or one the runner made: URL-safe as it is.
      env: {
        DATABASE_URL: `postgresql://${name}:${encodeURIComponent(password)}@/${name}?host=${socketSeen}`,
        PGHOST: socketSeen,
        PGPORT: String(port),
        PGUSER: name,
        PGPASSWORD: password,
        PGDATABASE: name,
      },
      mounts: view === 'sandbox' ? [{ host: path.join(socketDir, socketFile), inside: path.join(postgresSocketInside, socketFile) }] : [],
    });
    this.template = template;
    this.socketDir = socketDir;
  }

  /**
   * Runs SQL as the admin role (psql reading the script on stdin, stopping at the first
   * error) and returns psql's unaligned, tuples-only output. For the runner's tests.
   */
  query(sql: string, database: string = postgresRunRole): Promise<string> {
    const { binDir, system, account } = this.template;
    const argv = [path.join(binDir, 'psql'), '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', this.socketDir, '-p', String(port), '-U', account.name, '-d', database, '-f', '-'];
    return runAs(account, argv, { cwd: this.dir, input: sql, timeoutMs: 30_000, system });
  }

  /** The postmaster logs a backend killed by a signal (then restarts the others): that, or the server gone. */
  override lostAProcess(): boolean {
    return super.lostAProcess() || /terminated by signal 9/.test(this.server.logTail());
  }

  protected async shutDown(): Promise<void> {
    // Nothing to keep: SIGQUIT (immediate shutdown), SIGKILL if it hangs. The tmpfs goes with the last process.
    await this.server.stop('SIGQUIT', 2000);
  }
}
