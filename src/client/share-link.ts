/**
 * A share link carries the reader's edited files in the URL fragment (never sent to the
 * server): `#share=<base64url of deflate-raw of JSON>`, where the JSON is
 * `{ "v": 1, "s": "<sandbox-id>", "f": { "<path>": "<text>" } }`.
 *
 * Bounds: the encoded fragment is at most 16 KiB (16 384 characters; browsers and chat
 * apps keep URLs that long), and it inflates to at most 256 KiB, read in a stream that
 * stops at the bound, so a small hostile link cannot inflate to gigabytes. What it holds is
 * untrusted text: the caller shows it in the editor as text and runs it only on the
 * reader's own click; paths are checked here to be plain relative paths, and by the
 * caller to be files of the sandbox.
 */
import type { SandboxFiles } from '../protocol/manifest.ts';
import { isSafeRelativePath } from '../protocol/manifest-rules.ts';

export const shareParam = 'share';
export const shareVersion = 1;
export const maxEncodedChars = 16 * 1024;
export const maxInflatedBytes = 256 * 1024;
const maxFiles = 50;

export interface SharedCode {
  sandbox: string;
  files: SandboxFiles;
}

export type ShareErrorCode = 'too-large' | 'malformed' | 'other-sandbox';

/** Why a link cannot be made or read; `code` picks the page's sentence. */
export class ShareLinkError extends Error {
  readonly code: ShareErrorCode;
  constructor(code: ShareErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'ShareLinkError';
  }
}

const malformed = (why: string) => new ShareLinkError('malformed', `The share link is damaged: ${why}.`);
const tooLarge = (why: string) => new ShareLinkError('too-large', `The shared code is too large: ${why}.`);

function toBase64url(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw malformed('it is not base64url');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Inflates, giving up as soon as the output passes `limit` bytes. */
async function inflate(bytes: Uint8Array, limit: number): Promise<Uint8Array> {
  const reader = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(`it inflates past ${limit / 1024} KiB`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ShareLinkError) throw error;
    throw malformed('it does not decompress');
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function validFiles(raw: unknown): SandboxFiles {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw malformed('it holds no files');
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0 || entries.length > maxFiles) throw malformed(`it must hold 1 to ${maxFiles} files`);
  for (const [path, text] of entries) {
    if (!isSafeRelativePath(path)) throw malformed(`${JSON.stringify(path.slice(0, 80))} is not a file path`);
    if (typeof text !== 'string') throw malformed(`${path} is not text`);
  }
  return Object.fromEntries(entries) as SandboxFiles;
}

/** The fragment value (without `#share=`) for these files; a ShareLinkError when past the bound. */
export async function encodeShare(code: SharedCode): Promise<string> {
  const json = JSON.stringify({ v: shareVersion, s: code.sandbox, f: validFiles(code.files) });
  const bytes = new TextEncoder().encode(json);
  if (bytes.byteLength > maxInflatedBytes) throw tooLarge(`${Math.ceil(bytes.byteLength / 1024)} KiB of code, the bound is ${maxInflatedBytes / 1024} KiB`);
  const encoded = toBase64url(await deflate(bytes));
  if (encoded.length > maxEncodedChars) throw tooLarge(`the link would be ${Math.ceil(encoded.length / 1024)} KiB, the bound is ${maxEncodedChars / 1024} KiB`);
  return encoded;
}

/** The whole fragment: `#share=…`. */
export const shareHash = async (code: SharedCode): Promise<string> => `#${shareParam}=${await encodeShare(code)}`;

/** The share value in a location hash, if it has one (`#share=…`, other fragments ignored). */
export function shareValue(hash: string): string | undefined {
  const match = /^#?share=(.*)$/s.exec(hash);
  return match ? match[1] : undefined;
}

/**
 * Reads a share value. With `sandboxId` and `paths`, the code must be for that sandbox and
 * name only its files. Any problem is a ShareLinkError; nothing is evaluated.
 */
export async function decodeShare(value: string, expected?: { sandboxId: string; paths: readonly string[] }): Promise<SharedCode> {
  if (value.length > maxEncodedChars) throw tooLarge(`the link holds ${Math.ceil(value.length / 1024)} KiB, the bound is ${maxEncodedChars / 1024} KiB`);
  if (!value) throw malformed('it is empty');
  const bytes = await inflate(fromBase64url(value), maxInflatedBytes);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw malformed('it is not the code of a sandbox');
  }
  if (!raw || typeof raw !== 'object') throw malformed('it is not the code of a sandbox');
  const record = raw as { v?: unknown; s?: unknown; f?: unknown };
  if (record.v !== shareVersion) throw malformed('it was made by another version of the site');
  if (typeof record.s !== 'string' || !/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(record.s)) throw malformed('it names no sandbox');
  const files = validFiles(record.f);
  if (expected) {
    if (record.s !== expected.sandboxId) throw new ShareLinkError('other-sandbox', `The shared code is for another example (${record.s}).`);
    const unknown = Object.keys(files).filter((p) => !expected.paths.includes(p));
    if (unknown.length) throw malformed(`${unknown[0]} is not a file of this example`);
  }
  return { sandbox: record.s, files };
}
