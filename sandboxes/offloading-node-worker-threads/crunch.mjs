// crunch.mjs: CPU-bound work with no await in it, about 0.4 s of arithmetic
export function crunch(n) {
  let total = 0;
  for (let i = 0; i < n; i++) total += (i * i) % 7;
  return total;
}
