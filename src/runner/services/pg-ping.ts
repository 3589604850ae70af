/**
 * Is a PostgreSQL server accepting sessions yet? What `pg_isready` asks, without starting a
 * program: open the Unix socket, send a startup packet, read the first reply. A server still
 * in startup or recovery answers SQLSTATE 57P03 ("the database system is starting up")
 * before any authentication; any other answer (an authentication request, or an
 * authentication error for the runner's uid) means it has reached the point of taking
 * sessions. The server's data lives on a tmpfs only the server's mount namespace sees, so
 * its postmaster.pid cannot be read from the host.
 */
import { connect } from 'node:net';

const startingUp = '57P03';

function startupPacket(user: string, database: string): Buffer {
  const params = Buffer.from(`user\0${user}\0database\0${database}\0\0`, 'utf8');
  const packet = Buffer.alloc(8 + params.length);
  packet.writeInt32BE(packet.length, 0);
  packet.writeInt32BE(3 << 16, 4); // protocol 3.0
  params.copy(packet, 8);
  return packet;
}

/** The SQLSTATE of an ErrorResponse body (fields: a type byte, then a NUL-terminated string). */
function sqlState(body: Buffer): string | undefined {
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const end = body.indexOf(0, at + 1);
    if (end < 0) return undefined;
    if (body[at] === 0x43 /* 'C' */) return body.subarray(at + 1, end).toString('latin1');
    at = end + 1;
  }
  return undefined;
}

/** Resolves true once the server takes sessions, false while it starts up; rejects if nothing listens. */
export function postgresReady(socketFile: string, user: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketFile);
    let received = Buffer.alloc(0);
    const done = (outcome: boolean | Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const timer = setTimeout(() => done(new Error('no answer to the startup packet')), timeoutMs);
    socket.once('connect', () => socket.write(startupPacket(user, 'template1')));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 5) return;
      const type = String.fromCharCode(received[0]!);
      if (type !== 'E') return done(true);
      const length = received.readInt32BE(1);
      if (received.length < 1 + length) return;
      done(sqlState(received.subarray(5, 1 + length)) !== startingUp);
    });
    socket.once('error', (err) => done(err));
    socket.once('close', () => done(new Error('closed before answering')));
  });
}
