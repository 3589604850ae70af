/**
 * WebSocket close codes of the runner protocol (messages.ts). A module of its own, free of the
 * message schemas (zod), so the page's engines can import it without pulling a validator in.
 */

/**
 * Sent by a runner host going away on purpose (a gateway on SIGTERM): the connection's runs are
 * over, and the page should connect again, with backoff: another host answers the same address.
 */
export const reconnectCloseCode = 4000;
