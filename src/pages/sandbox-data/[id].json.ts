/**
 * /sandbox-data/<id>.json: a sandbox's files and recorded trace (src/sandbox/sandbox-data.ts),
 * which the page loads on the reader's first Run, Edit or export instead of inlining them.
 */
import type { APIRoute, GetStaticPaths } from 'astro';
import { payloadBody, sandboxIds, sandboxPayload } from '../../sandbox/sandbox-data.ts';

export const getStaticPaths = (() => sandboxIds(process.cwd()).map((id) => ({ params: { id } }))) satisfies GetStaticPaths;

export const GET: APIRoute = async ({ params }) => {
  const { body } = payloadBody(await sandboxPayload(process.cwd(), params.id!));
  return new Response(body, { headers: { 'Content-Type': 'application/json; charset=utf-8' } });
};
