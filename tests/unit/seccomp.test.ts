/**
 * The sandbox's seccomp filter, decoded from the bytes bwrap is given and run on a small
 * classic-BPF interpreter over seccomp_data: what each (architecture, syscall) pair gets.
 * The real filter under the real kernel is tested in tests/runner/capacity.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditArch, dataOffset, deniedSyscalls, EPERM, op, ret, seccompInstructions, seccompProgram, x32Bit, type Instruction } from '../../src/runner/seccomp.ts';

function decode(bytes: Buffer): Instruction[] {
  assert.equal(bytes.length % 8, 0, 'whole struct sock_filter entries');
  const out: Instruction[] = [];
  for (let i = 0; i < bytes.length; i += 8) {
    out.push({ code: bytes.readUInt16LE(i), jt: bytes.readUInt8(i + 2), jf: bytes.readUInt8(i + 3), k: bytes.readUInt32LE(i + 4) });
  }
  return out;
}

/** Runs the program the way the kernel does, for one call; only the opcodes the filter may use. */
function evaluate(program: Instruction[], arch: number, nr: number): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(nr | 0, dataOffset.nr);
  data.writeUInt32LE(arch, dataOffset.arch);
  let acc = 0;
  for (let pc = 0, steps = 0; pc < program.length; pc++, steps++) {
    assert.ok(steps <= program.length, 'no loops: classic BPF only jumps forward');
    const { code, jt, jf, k } = program[pc]!;
    switch (code) {
      case op.ldAbsW:
        assert.ok(k + 4 <= 64, 'loads stay inside seccomp_data');
        acc = data.readUInt32LE(k);
        break;
      case op.jeq:
        pc += acc === k ? jt : jf;
        break;
      case op.jset:
        pc += (acc & k) !== 0 ? jt : jf;
        break;
      case op.retK:
        return k;
      default:
        assert.fail(`unexpected opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  return assert.fail('fell off the end without a return');
}

const program = decode(seccompProgram());
const deny = ret.errno | EPERM;
const I386 = 0x40000003;
const ARM = 0x40000028;

test('the bytes bwrap reads decode to the instructions, and fit the kernel limit', () => {
  assert.deepEqual(program, seccompInstructions());
  assert.ok(program.length < 4096, 'BPF_MAXINSNS');
});

test('the calls that reach into a sibling process are refused with EPERM on both architectures', () => {
  for (const name of ['pidfd_getfd', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp']) {
    const call = deniedSyscalls.find((c) => c.name === name)!;
    assert.equal(evaluate(program, auditArch.x86_64, call.x86_64), deny, `${name} on x86_64`);
    assert.equal(evaluate(program, auditArch.aarch64, call.aarch64), deny, `${name} on aarch64`);
  }
  for (const call of deniedSyscalls) {
    assert.equal(evaluate(program, auditArch.x86_64, call.x86_64), deny, call.name);
    assert.equal(evaluate(program, auditArch.aarch64, call.aarch64), deny, call.name);
    assert.ok(call.why.length > 10, `${call.name} says why`);
  }
});

test('everything else is allowed, judged by the numbers of its own architecture', () => {
  const allow = ret.allow;
  // x86_64: read 0, clone 56, pidfd_open 434, pidfd_send_signal 424, unshare 272; aarch64: read 63, clone 220.
  for (const nr of [0, 1, 56, 59, 231, 272, 424, 434, 435]) assert.equal(evaluate(program, auditArch.x86_64, nr), allow, `x86_64 ${nr}`);
  for (const nr of [63, 64, 220, 221, 94, 424, 434]) assert.equal(evaluate(program, auditArch.aarch64, nr), allow, `aarch64 ${nr}`);
  // 101 is ptrace on x86_64 but nanosleep on aarch64; 117 is ptrace on aarch64 but setresuid on x86_64.
  assert.equal(evaluate(program, auditArch.aarch64, 101), allow);
  assert.equal(evaluate(program, auditArch.x86_64, 117), allow);
  assert.equal(evaluate(program, auditArch.x86_64, -1), allow, 'syscall(-1): the kernel answers ENOSYS');
});

test('other ABIs are killed: x32 numbers on x86_64, i386 and AArch32 calls', () => {
  assert.equal(evaluate(program, auditArch.x86_64, x32Bit | 0), ret.killProcess, 'x32 read');
  assert.equal(evaluate(program, auditArch.x86_64, x32Bit | 521), ret.killProcess, 'x32 ptrace');
  assert.equal(evaluate(program, I386, 26), ret.killProcess, 'i386 ptrace');
  assert.equal(evaluate(program, I386, 3), ret.killProcess, 'i386 read');
  assert.equal(evaluate(program, ARM, 26), ret.killProcess, 'AArch32 ptrace');
});
