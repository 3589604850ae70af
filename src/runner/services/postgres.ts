/**
 * A throwaway PostgreSQL cluster for the runs that need one: initdb into a private
 * temp directory, the server as the `postgres` account (never root), listening on a Unix
 * socket only. Each run gets its own role (random password, sent as a SCRAM verifier)
 * owning its own database, which nobody else may connect to; both are dropped, with the
 * run's connections, when the run ends.
 *
 * Who may connect (pg_hba.conf): the admin account by peer credentials only (the runner's
 * psql runs as that OS user; sandboxes appear to the host as another uid), and every other
 * role only to the database of its own name, with its password. `REVOKE CONNECT` on every
 * database is the second lock on the same door.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { executable, privateDir, runAs, shareWithSandboxes, serviceAccount, setprivPath, startServer, sweepAbandoned, waitUntil, type Account, type ServerProcess, type ServiceSystem } from './service-process.ts';
import { quoteIdent, quoteLiteral, scramVerifier } from './sql.ts';
import { ServiceUnavailableError, type PathView, type ServiceAttachment } from './types.ts';
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

/** Per-run ceilings the role cannot lift (temp_file_limit is superuser-only; CONNECTION LIMIT needs CREATEROLE). */
const runConnectionLimit = 20;
const runTempFileLimit = '64MB';

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

/** Starts a cluster, or throws ServiceUnavailableError saying why not. */
export async function startPostgres(options: PostgresOptions = {}): Promise<Postgres> {
  const unavailable = (detail: string) => new ServiceUnavailableError('postgres', detail);
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
  await sweepAbandoned('postgres');
  const dir = await privateDir('postgres', account);
  const data = path.join(dir, 'data');
  const socketDir = path.join(dir, 'socket');
  let server: ServerProcess | undefined;
  try {
    await mkdir(socketDir);
    await shareWithSandboxes(socketDir, account);
    // --no-sync and fsync=off: the cluster is thrown away, durability buys nothing here.
    await runAs(account, [path.join(binDir, 'initdb'), '-D', data, '-U', account.name, '-E', 'UTF8', '--no-locale', '--auth-local=peer', '--auth-host=reject', '--no-sync', '--no-instructions'], { cwd: dir, timeoutMs: 60_000, system });
    const hba = [
      '# Written by the AsyncLab runner. TYPE  DATABASE  USER  METHOD',
      `local all ${account.name} peer`,
      'local sameuser all scram-sha-256',
      '',
    ].join('\n');
    await writeFile(path.join(data, 'pg_hba.conf'), hba, { mode: 0o600 });
    if (process.getuid?.() === 0) await chown(path.join(data, 'pg_hba.conf'), account.uid, account.gid);

    const settings: Record<string, string> = {
      listen_addresses: '', // no TCP at all
      port: String(port),
      unix_socket_directories: socketDir,
      // The directories around it (0710, group root) keep host users out; sandboxes come in through a bind mount.
      unix_socket_permissions: '0777',
      password_encryption: 'scram-sha-256',
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      shared_buffers: '16MB',
      max_connections: '100',
      superuser_reserved_connections: '3', // the runner can always get in to clean up
      autovacuum: 'off', // databases live for one run; spare the shared CPUs
      jit: 'off',
      log_min_error_statement: 'panic', // a run's failing SQL is its own business, not the log's
    };
    const args = Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
    // SIGINT on runner death = fast shutdown: sessions are ended, the server exits.
    server = startServer(account, [path.join(binDir, 'postgres'), '-D', data, ...args], { cwd: dir, deathSignal: 'SIGINT', system });
    await waitUntil(server, async () => (await readFile(path.join(data, 'postmaster.pid'), 'utf8')).split('\n')[7]?.trim() === 'ready', 30_000);
    const pg = new Postgres({ binDir, system, account, dir, socketDir, server, startMs: Math.round(performance.now() - started) });
    await pg.lockDown();
    return pg;
  } catch (err) {
    await server?.stop('SIGQUIT', 2000);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw err instanceof ServiceUnavailableError ? err : unavailable(`it did not start: ${(err as Error).message}`);
  }
}

interface PostgresParts {
  binDir: string;
  system: ServiceSystem | undefined;
  account: Account;
  dir: string;
  socketDir: string;
  server: ServerProcess;
  startMs: number;
}

export class Postgres extends ServerService {
  readonly name = 'postgres' as const;
  private readonly parts: PostgresParts;

  constructor(parts: PostgresParts) {
    super(parts.server, parts.startMs);
    this.parts = parts;
  }

  /**
   * Runs SQL as the admin role (psql reading the script on stdin, stopping at the first
   * error) and returns psql's unaligned, tuples-only output. For the runner and its tests.
   */
  query(sql: string, database = 'postgres'): Promise<string> {
    const { binDir, system, account, dir, socketDir } = this.parts;
    const argv = [path.join(binDir, 'psql'), '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', socketDir, '-p', String(port), '-U', account.name, '-d', database, '-f', '-'];
    return runAs(account, argv, { cwd: dir, input: sql, timeoutMs: 30_000, system });
  }

  /** Once per cluster: nobody but a database's own role connects to it, and the catalogs stop listing other runs. */
  async lockDown(): Promise<void> {
    await this.query(
      [
        'REVOKE ALL ON DATABASE postgres FROM PUBLIC;',
        'REVOKE ALL ON DATABASE template1 FROM PUBLIC;',
        // New databases are copies of template1, catalog privileges included.
        '\\connect template1',
        'REVOKE SELECT ON pg_catalog.pg_database, pg_catalog.pg_roles, pg_catalog.pg_user, pg_catalog.pg_stat_activity, pg_catalog.pg_stat_database FROM PUBLIC;',
        '',
      ].join('\n'),
    );
  }

  async attach(view: PathView): Promise<ServiceAttachment> {
    // One name for the role and its database: pg_hba's `sameuser` then admits exactly that pair.
    const name = `asynclab_${randomBytes(8).toString('hex')}`;
    const password = randomBytes(24).toString('base64url');
    const role = quoteIdent(name);
    await this.query(
      [
        `CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT ${runConnectionLimit} PASSWORD ${quoteLiteral(scramVerifier(password))};`,
        `ALTER ROLE ${role} SET temp_file_limit = ${quoteLiteral(runTempFileLimit)};`,
        `CREATE DATABASE ${role} OWNER ${role};`,
        `REVOKE ALL ON DATABASE ${role} FROM PUBLIC;`,
        '',
      ].join('\n'),
    );
    const socketDir = view === 'sandbox' ? postgresSocketInside : this.parts.socketDir;
    return {
      // The socket dir is a fixed path or one the runner made: URL-safe as it is.
      env: {
        DATABASE_URL: `postgresql://${name}:${encodeURIComponent(password)}@/${name}?host=${socketDir}`,
        PGHOST: socketDir,
        PGPORT: String(port),
        PGUSER: name,
        PGPASSWORD: password,
        PGDATABASE: name,
      },
      mounts: view === 'sandbox' ? [{ host: path.join(this.parts.socketDir, socketFile), inside: path.join(postgresSocketInside, socketFile) }] : [],
      release: this.releaseOnce(async () => {
        // FORCE ends the run's sessions first (a sandbox's pool may still hold some for a moment).
        await this.query(`DROP DATABASE IF EXISTS ${role} WITH (FORCE);\nDROP ROLE IF EXISTS ${role};\n`);
      }),
    };
  }

  protected async shutDown(): Promise<void> {
    // SIGINT: fast shutdown (sessions terminated, clean exit); SIGKILL if it hangs.
    await this.parts.server.stop('SIGINT', 5000);
    await rm(this.parts.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
