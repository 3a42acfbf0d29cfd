/**
 * SIMD helpers shared by the kernels. RELAXED is a compile-time constant set by
 * the build (`--use RELAXED=1` for the relaxed-SIMD build, 0 for plain SIMD):
 * madd(a, b, c) = a * b + c, fused (one rounding) where relaxed SIMD allows it.
 */

// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  // @ts-ignore: RELAXED is introduced by asc's --use
  if (RELAXED) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** a * b + c on one value, rounded as madd rounds each lane (scalar tails agree with the SIMD body). */
// @ts-ignore: decorator
@inline export function madd1(a: f32, b: f32, c: f32): f32 {
  // @ts-ignore: RELAXED is introduced by asc's --use
  if (RELAXED) return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
  return a * b + c;
}

// @ts-ignore: decorator
@inline export function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

// @ts-ignore: decorator
@inline export function imax(a: i32, b: i32): i32 {
  return a > b ? a : b;
}

/** f32 element i of the array at byte address p. */
// @ts-ignore: decorator
@inline export function ld(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline export function st(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

/** dst[0..n) = 0. */
export function zero(dst: usize, n: i32): void {
  memory.fill(dst, 0, <usize>n << 2);
}

/** Zeroes n floats; up to 256 with a vector loop. */
// @ts-ignore: decorator
@inline export function zeroFloats(dst: usize, n: i32): void {
  if (n > 256) {
    memory.fill(dst, 0, <usize>n << 2);
    return;
  }
  const z = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) v128.store(dst + (<usize>k << 2), z);
  for (; k < n; k++) store<f32>(dst + (<usize>k << 2), 0);
}
