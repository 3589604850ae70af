/**
 * The seccomp filter every sandbox runs under, as the classic-BPF program bwrap loads with
 * `--seccomp FD` (after its own setup, just before it execs the sandbox's first program).
 *
 * Why: every process of a run has the same uid, so without a filter one of them may reach
 * into another — `pidfd_getfd` took the live-preview bridge's listening socket (issue 15),
 * and `ptrace` / `process_vm_writev` could rewrite the bridge or the load driver. The filter
 * refuses those calls with EPERM, together with a few interfaces no lesson needs that are
 * large kernel attack surface. Everything else is allowed: this is a deny list, kept short so
 * Python, Node, uvicorn, gunicorn, multiprocessing and celery behave as they do anywhere.
 *
 * Each entry says why it is there. Left allowed on purpose: `pidfd_open` and
 * `pidfd_send_signal` (asyncio's child watcher uses them; they reach only the run's own PID
 * namespace), `unshare`/`setns`/`clone` flags (bwrap's --disable-userns and the dropped
 * capabilities already refuse new namespaces).
 *
 * The program checks `seccomp_data.arch` first: only x86_64 and aarch64 calls are judged by
 * number; a call through any other ABI (i386 via `int 0x80` on x86_64, AArch32 on aarch64)
 * or the x32 ABI (x86_64 numbers with bit 30 set) would reach the same kernel functions
 * under other numbers, so it kills the process instead.
 */

/** How a syscall is refused, and why it is refused at all. */
export interface DeniedSyscall {
  name: string;
  x86_64: number;
  aarch64: number;
  why: string;
}

const sameUid = 'reaches into another process of the run (they all share one uid)';
const mounts = 'mounts: refused anyway without capabilities; denied outright as defence in depth';

export const deniedSyscalls: readonly DeniedSyscall[] = [
  { name: 'pidfd_getfd', x86_64: 438, aarch64: 438, why: `copies another process's descriptor: ${sameUid}` },
  { name: 'ptrace', x86_64: 101, aarch64: 117, why: `attaches to another process: ${sameUid}` },
  { name: 'process_vm_readv', x86_64: 310, aarch64: 270, why: `reads another process's memory: ${sameUid}` },
  { name: 'process_vm_writev', x86_64: 311, aarch64: 271, why: `writes another process's memory: ${sameUid}` },
  { name: 'kcmp', x86_64: 312, aarch64: 272, why: `probes another process's descriptors and memory: ${sameUid}` },
  { name: 'process_madvise', x86_64: 440, aarch64: 440, why: `advises on another process's memory: ${sameUid}` },
  { name: 'perf_event_open', x86_64: 298, aarch64: 241, why: 'performance counters: timing side channels and kernel attack surface' },
  { name: 'bpf', x86_64: 321, aarch64: 280, why: 'eBPF programs: kernel attack surface' },
  { name: 'userfaultfd', x86_64: 323, aarch64: 282, why: 'lets a program stall the kernel mid-copy, the usual tool for widening kernel race windows' },
  { name: 'add_key', x86_64: 248, aarch64: 217, why: 'kernel keyrings are not namespaced per sandbox' },
  { name: 'request_key', x86_64: 249, aarch64: 218, why: 'kernel keyrings are not namespaced per sandbox' },
  { name: 'keyctl', x86_64: 250, aarch64: 219, why: 'kernel keyrings are not namespaced per sandbox' },
  // Python and Node do not use io_uring by default; libuv falls back to threads when it is refused.
  { name: 'io_uring_setup', x86_64: 425, aarch64: 425, why: 'io_uring: a large kernel attack surface seccomp cannot see into' },
  { name: 'io_uring_enter', x86_64: 426, aarch64: 426, why: 'io_uring: a large kernel attack surface seccomp cannot see into' },
  { name: 'io_uring_register', x86_64: 427, aarch64: 427, why: 'io_uring: a large kernel attack surface seccomp cannot see into' },
  { name: 'mount', x86_64: 165, aarch64: 40, why: mounts },
  { name: 'umount2', x86_64: 166, aarch64: 39, why: mounts },
  { name: 'pivot_root', x86_64: 155, aarch64: 41, why: mounts },
  { name: 'open_tree', x86_64: 428, aarch64: 428, why: mounts },
  { name: 'move_mount', x86_64: 429, aarch64: 429, why: mounts },
  { name: 'fsopen', x86_64: 430, aarch64: 430, why: mounts },
  { name: 'fsconfig', x86_64: 431, aarch64: 431, why: mounts },
  { name: 'fsmount', x86_64: 432, aarch64: 432, why: mounts },
  { name: 'fspick', x86_64: 433, aarch64: 433, why: mounts },
  { name: 'mount_setattr', x86_64: 442, aarch64: 442, why: mounts },
];

/** `AUDIT_ARCH_*` values the kernel puts in seccomp_data.arch (linux/audit.h). */
export const auditArch = { x86_64: 0xc000003e, aarch64: 0xc00000b7 } as const;
/** x86_64 syscall numbers with this bit set are the x32 ABI. */
export const x32Bit = 0x40000000;

export const EPERM = 1;
/** `SECCOMP_RET_*` actions (linux/seccomp.h). */
export const ret = { killProcess: 0x80000000, errno: 0x00050000, allow: 0x7fff0000 } as const;

/** `BPF_*` opcodes used here (linux/filter.h): load word absolute, jumps against a constant, return a constant. */
export const op = { ldAbsW: 0x20, jeq: 0x15, jset: 0x45, retK: 0x06 } as const;

/** Offsets in `struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }`. */
export const dataOffset = { nr: 0, arch: 4 } as const;

/** One `struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; }`. */
export interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

type Label = string;
type Draft = { code: number; k: number; jt?: Label; jf?: Label } | { label: Label };

/** Resolves labels into the relative jump offsets (instructions to skip) classic BPF uses. */
function assemble(draft: Draft[]): Instruction[] {
  const at = new Map<Label, number>();
  const body: Array<Exclude<Draft, { label: Label }>> = [];
  for (const item of draft) {
    if ('label' in item) at.set(item.label, body.length);
    else body.push(item);
  }
  return body.map((item, index) => {
    const offset = (label: Label | undefined) => {
      if (label === undefined) return 0;
      const target = at.get(label);
      if (target === undefined) throw new Error(`seccomp: no label ${label}`);
      const skip = target - index - 1;
      if (skip < 0 || skip > 255) throw new Error(`seccomp: jump to ${label} out of range (${skip})`);
      return skip;
    };
    return { code: item.code, k: item.k >>> 0, jt: offset(item.jt), jf: offset(item.jf) };
  });
}

/** The filter, as instructions (for reading and testing). */
export function seccompInstructions(denied: readonly DeniedSyscall[] = deniedSyscalls): Instruction[] {
  const draft: Draft[] = [
    { code: op.ldAbsW, k: dataOffset.arch },
    { code: op.jeq, k: auditArch.x86_64, jt: 'x86_64', jf: 'not-x86_64' },
    { label: 'not-x86_64' },
    { code: op.jeq, k: auditArch.aarch64, jt: 'aarch64', jf: 'kill' },
  ];
  for (const arch of ['x86_64', 'aarch64'] as const) {
    draft.push({ label: arch }, { code: op.ldAbsW, k: dataOffset.nr });
    if (arch === 'x86_64') {
      // syscall(-1) has the x32 bit set too, but is no x32 call: the kernel answers it ENOSYS.
      draft.push({ code: op.jeq, k: 0xffffffff, jt: `${arch}-allow`, jf: `${arch}-not-minus-one` }, { label: `${arch}-not-minus-one` });
      draft.push({ code: op.jset, k: x32Bit, jt: 'kill', jf: `${arch}-native` }, { label: `${arch}-native` });
    }
    for (const call of denied) draft.push({ code: op.jeq, k: call[arch], jt: 'deny', jf: `${arch}-${call.name}-no` }, { label: `${arch}-${call.name}-no` });
    draft.push({ label: `${arch}-allow` }, { code: op.retK, k: ret.allow });
  }
  draft.push({ label: 'deny' }, { code: op.retK, k: ret.errno | EPERM }, { label: 'kill' }, { code: op.retK, k: ret.killProcess });
  return assemble(draft);
}

/** The filter as bwrap reads it from its descriptor: the sock_filter array in the machine's byte order. */
export function seccompProgram(denied: readonly DeniedSyscall[] = deniedSyscalls): Buffer {
  const instructions = seccompInstructions(denied);
  const bytes = Buffer.alloc(instructions.length * 8);
  // Both supported architectures are little-endian.
  instructions.forEach(({ code, jt, jf, k }, i) => {
    bytes.writeUInt16LE(code, i * 8);
    bytes.writeUInt8(jt, i * 8 + 2);
    bytes.writeUInt8(jf, i * 8 + 3);
    bytes.writeUInt32LE(k, i * 8 + 4);
  });
  return bytes;
}
