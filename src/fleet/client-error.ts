/**
 * The fleet's HTTP servers (gateway, node preview endpoint) answer a refused request on their
 * own rather than leave it to Node, so that the socket is closed for good (raw-answer.ts).
 */
import type { Duplex } from 'node:stream';
import { answerAndClose, statusOnly } from '../runner/raw-answer.ts';

/**
 * A request Node's parser refused, or one that broke a timeout: answered as Node itself would
 * (408 for a timeout, 431 for oversized headers, 400 otherwise) when nothing has been written on
 * that socket yet — else an answer would land in the middle of another — then closed for good.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if ((socket as Duplex & { bytesWritten?: number }).bytesWritten !== 0) return void socket.destroy();
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return answerAndClose(socket, statusOnly(408, 'Request Timeout'));
  if (err.code === 'HPE_HEADER_OVERFLOW') return answerAndClose(socket, statusOnly(431, 'Request Header Fields Too Large'));
  answerAndClose(socket, statusOnly(400, 'Bad Request'));
}
