/**
 * A WebContainer process has one output: its pseudo-terminal, where stdout, stderr and
 * (with no fd 3 there) the harness's trace lines all arrive, in chunks that split lines
 * anywhere, with CRLF line ends and possibly ANSI colour codes. This turns that stream
 * back into console text and trace lines.
 */

/** The Node harness's marker for a trace line on stdout (sandboxes/_harness/node/trace.mjs). */
export const TRACE_PREFIX = '\x1easynclab-trace ';

export type OutputPiece = { type: 'stdout'; data: string } | { type: 'trace'; data: string };

// CSI sequences (colours, cursor moves) and OSC titles a terminal program may print.
const ansi = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;
const completeEscape = /^(?:\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\))/;

export class TerminalOutputSplitter {
  /** Text after the last newline: it may still turn out to start a trace line. */
  private pending = '';

  /** Feeds one chunk; returns what can be told apart so far. */
  push(chunk: string): OutputPiece[] {
    this.pending += chunk;
    const pieces: OutputPiece[] = [];
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) !== -1) {
      const line = this.pending.slice(0, newline).replace(/\r$/, '');
      this.pending = this.pending.slice(newline + 1);
      this.line(line, true, pieces);
    }
    // Console text without a newline yet (a prompt, a progress dot) is shown now, unless it
    // could be the start of a trace marker that the next chunk completes.
    const marker = this.pending.indexOf('\x1e');
    let safe = marker === -1 ? this.pending : this.pending.slice(0, marker);
    // Likewise a colour code cut in half: hold it until it is whole, then strip it.
    const escape = safe.lastIndexOf('\x1b');
    if (escape !== -1 && !completeEscape.test(safe.slice(escape))) safe = safe.slice(0, escape);
    if (safe && !safe.endsWith('\r')) {
      this.emitText(safe, pieces);
      this.pending = this.pending.slice(safe.length);
    }
    return merge(pieces);
  }

  /** The stream ended: whatever is left is console text. */
  end(): OutputPiece[] {
    const pieces: OutputPiece[] = [];
    if (this.pending) this.line(this.pending.replace(/\r$/, ''), false, pieces);
    this.pending = '';
    return merge(pieces);
  }

  private line(line: string, hadNewline: boolean, pieces: OutputPiece[]): void {
    const at = line.indexOf(TRACE_PREFIX);
    if (at === -1) {
      this.emitText(hadNewline ? `${line}\n` : line, pieces);
      return;
    }
    // The program left a line unfinished and the harness wrote a trace line after it.
    if (at > 0) this.emitText(line.slice(0, at), pieces);
    const json = line.slice(at + TRACE_PREFIX.length).replace(ansi, '');
    if (json) pieces.push({ type: 'trace', data: `${json}\n` });
  }

  private emitText(text: string, pieces: OutputPiece[]): void {
    const clean = text.replace(ansi, '').replace(/\r\n/g, '\n');
    if (clean) pieces.push({ type: 'stdout', data: clean });
  }
}

/** Neighbouring pieces of the same type become one event. */
function merge(pieces: OutputPiece[]): OutputPiece[] {
  const out: OutputPiece[] = [];
  for (const piece of pieces) {
    const last = out.at(-1);
    if (last && last.type === piece.type) last.data += piece.data;
    else out.push({ ...piece });
  }
  return out;
}
