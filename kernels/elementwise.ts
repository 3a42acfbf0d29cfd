/**
 * Element-wise kernels, reductions and softmax (same semantics as
 * src/backends/ref/elementwise.ts and reduce.ts). Functions that need
 * transcendentals (softmax) compute in f64 like the reference, so the
 * results round to the same float32 values.
 */

// Unary op codes (host: src/backends/wasm/kernels.ts).
const U_NEG = 0;
const U_ABS = 1;
const U_RELU = 2;
const U_LEAKY = 3;
const U_SQUARE = 4;
const U_SQRT = 5;
const U_RECIP = 6;
const U_CLAMP = 7;
const U_SIGN = 8;

/** f(v) on four lanes for unary op `op` (a constant where inlined), with the op's scalars a and b splatted. */
// @ts-ignore: decorator
@inline function unary4(op: i32, v: v128, va: v128, vb: v128): v128 {
  const zero = f32x4.splat(0);
  switch (op) {
    case U_NEG: return f32x4.neg(v);
    case U_ABS: return f32x4.abs(v);
    case U_RELU: return v128.bitselect(v, zero, f32x4.gt(v, zero)); // x > 0 ? x : 0 (NaN -> 0)
    case U_LEAKY: return v128.bitselect(v, f32x4.mul(v, va), f32x4.gt(v, zero));
    case U_SQUARE: return f32x4.mul(v, v);
    case U_SQRT: return f32x4.sqrt(v);
    case U_RECIP: return f32x4.div(f32x4.splat(1), v);
    case U_CLAMP: {
      // v < lo ? lo : v > hi ? hi : v (NaN stays NaN)
      const hiSel = v128.bitselect(vb, v, f32x4.gt(v, vb));
      return v128.bitselect(va, hiSel, f32x4.lt(v, va));
    }
    default: { // U_SIGN: -1, 0 (keeping -0 / +0 as Math.sign does), 1, NaN
      const pos = f32x4.gt(v, zero);
      const neg = f32x4.lt(v, zero);
      return v128.bitselect(f32x4.splat(1), v128.bitselect(f32x4.splat(-1), v, neg), pos);
    }
  }
}

// @ts-ignore: decorator
@inline function unary1(op: i32, v: f32, a: f32, b: f32): f32 {
  switch (op) {
    case U_NEG: return -v;
    case U_ABS: return Mathf.abs(v);
    case U_RELU: return v > 0 ? v : 0;
    case U_LEAKY: return v > 0 ? v : a * v;
    case U_SQUARE: return v * v;
    case U_SQRT: return Mathf.sqrt(v);
    case U_RECIP: return 1 / v;
    case U_CLAMP: return v < a ? a : v > b ? b : v;
    default: return v > 0 ? 1 : v < 0 ? -1 : v;
  }
}

/** The loop of `unary` for one op (inlined with a constant op, so the body has no branch). */
// @ts-ignore: decorator
@inline function unaryLoop(op: i32, x: usize, out: usize, i0: i32, i1: i32, a: f32, b: f32): void {
  const va = f32x4.splat(a);
  const vb = f32x4.splat(b);
  let i = i0;
  for (; i + 8 <= i1; i += 8) {
    const o = <usize>i << 2;
    const v0 = v128.load(x + o), v1 = v128.load(x + o, 16);
    v128.store(out + o, unary4(op, v0, va, vb));
    v128.store(out + o, unary4(op, v1, va, vb), 16);
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, unary1(op, load<f32>(x + o), a, b));
  }
}

/** out[i] = f(x[i]) for i in i0 .. i1-1; a and b are the op's scalars (slope, clamp bounds). */
export function unary(op: i32, x: usize, out: usize, i0: i32, i1: i32, a: f32, b: f32): void {
  switch (op) {
    case U_NEG: unaryLoop(U_NEG, x, out, i0, i1, a, b); break;
    case U_ABS: unaryLoop(U_ABS, x, out, i0, i1, a, b); break;
    case U_RELU: unaryLoop(U_RELU, x, out, i0, i1, a, b); break;
    case U_LEAKY: unaryLoop(U_LEAKY, x, out, i0, i1, a, b); break;
    case U_SQUARE: unaryLoop(U_SQUARE, x, out, i0, i1, a, b); break;
    case U_SQRT: unaryLoop(U_SQRT, x, out, i0, i1, a, b); break;
    case U_RECIP: unaryLoop(U_RECIP, x, out, i0, i1, a, b); break;
    case U_CLAMP: unaryLoop(U_CLAMP, x, out, i0, i1, a, b); break;
    default: unaryLoop(U_SIGN, x, out, i0, i1, a, b);
  }
}

/** gy * f'(x) on four lanes for the unary ops with a backward here. */
// @ts-ignore: decorator
@inline function unaryBack4(op: i32, v: v128, g: v128, va: v128, vb: v128): v128 {
  const zero = f32x4.splat(0);
  switch (op) {
    case U_NEG: return f32x4.neg(g);
    case U_RELU: return v128.bitselect(g, zero, f32x4.gt(v, zero));
    case U_LEAKY: return v128.bitselect(g, f32x4.mul(g, va), f32x4.gt(v, zero));
    case U_SQUARE: {
      // 2 x gy exactly in f64, rounded once (as the reference: x + x may overflow where the result does not)
      const lo = f64x2.mul(f64x2.mul(f64x2.promote_low_f32x4(v), f64x2.splat(2)), f64x2.promote_low_f32x4(g));
      const hi = f64x2.mul(f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), f64x2.splat(2)),
        f64x2.promote_low_f32x4(v128.shuffle<f32>(g, g, 2, 3, 0, 1)));
      return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
    }
    case U_CLAMP: return v128.and(g, v128.and(f32x4.ge(v, va), f32x4.le(v, vb)));
    default: return zero; // U_SIGN
  }
}

// @ts-ignore: decorator
@inline function unaryBack1(op: i32, v: f32, g: f32, a: f32, b: f32): f32 {
  switch (op) {
    case U_NEG: return -g;
    case U_RELU: return v > 0 ? g : 0;
    case U_LEAKY: return v > 0 ? g : a * g;
    case U_SQUARE: return <f32>(2 * <f64>v * <f64>g);
    case U_CLAMP: return v >= a && v <= b ? g : 0;
    default: return 0;
  }
}

// @ts-ignore: decorator
@inline function unaryBackLoop(op: i32, x: usize, gy: usize, gx: usize, i0: i32, i1: i32, a: f32, b: f32): void {
  const va = f32x4.splat(a);
  const vb = f32x4.splat(b);
  let i = i0;
  for (; i + 8 <= i1; i += 8) {
    const o = <usize>i << 2;
    const v0 = v128.load(x + o), v1 = v128.load(x + o, 16);
    const g0 = v128.load(gy + o), g1 = v128.load(gy + o, 16);
    v128.store(gx + o, unaryBack4(op, v0, g0, va, vb));
    v128.store(gx + o, unaryBack4(op, v1, g1, va, vb), 16);
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    store<f32>(gx + o, unaryBack1(op, load<f32>(x + o), load<f32>(gy + o), a, b));
  }
}

/** gx[i] = gy[i] * f'(x[i]) for the unary ops above (sign: 0; sqrt and reciprocal use y). */
export function unary_backward(op: i32, x: usize, y: usize, gy: usize, gx: usize, i0: i32, i1: i32, a: f32, b: f32): void {
  switch (op) {
    case U_NEG: unaryBackLoop(U_NEG, x, gy, gx, i0, i1, a, b); break;
    case U_RELU: unaryBackLoop(U_RELU, x, gy, gx, i0, i1, a, b); break;
    case U_LEAKY: unaryBackLoop(U_LEAKY, x, gy, gx, i0, i1, a, b); break;
    case U_SQUARE: unaryBackLoop(U_SQUARE, x, gy, gx, i0, i1, a, b); break;
    case U_CLAMP: unaryBackLoop(U_CLAMP, x, gy, gx, i0, i1, a, b); break;
    default: unaryBackLoop(U_SIGN, x, gy, gx, i0, i1, a, b);
  }
}

// Binary op codes.
const B_ADD = 0;
const B_SUB = 1;
const B_MUL = 2;
const B_DIV = 3;
const B_MAX = 4;
const B_MIN = 5;
const B_EQ = 6;
const B_NE = 7;
const B_LT = 8;
const B_LE = 9;
const B_GT = 10;
const B_GE = 11;

// @ts-ignore: decorator
@inline function bin4(op: i32, x: v128, y: v128): v128 {
  const one = f32x4.splat(1);
  switch (op) {
    case B_ADD: return f32x4.add(x, y);
    case B_SUB: return f32x4.sub(x, y);
    case B_MUL: return f32x4.mul(x, y);
    case B_DIV: return f32x4.div(x, y);
    case B_MAX: case B_MIN: {
      // a > b ? a : b (a < b for min), NaN if either is NaN
      const pick = op == B_MAX ? f32x4.gt(x, y) : f32x4.lt(x, y);
      const r = v128.bitselect(x, y, pick);
      const nan = v128.or(f32x4.ne(x, x), f32x4.ne(y, y));
      return v128.bitselect(f32x4.add(x, y), r, nan);
    }
    case B_EQ: return v128.and(f32x4.eq(x, y), one);
    case B_NE: return v128.and(f32x4.ne(x, y), one);
    case B_LT: return v128.and(f32x4.lt(x, y), one);
    case B_LE: return v128.and(f32x4.le(x, y), one);
    case B_GT: return v128.and(f32x4.gt(x, y), one);
    default: return v128.and(f32x4.ge(x, y), one);
  }
}

// @ts-ignore: decorator
@inline function bin1(op: i32, x: f32, y: f32): f32 {
  switch (op) {
    case B_ADD: return x + y;
    case B_SUB: return x - y;
    case B_MUL: return x * y;
    case B_DIV: return x / y;
    case B_MAX: return x != x || y != y ? NaN : x > y ? x : y;
    case B_MIN: return x != x || y != y ? NaN : x < y ? x : y;
    case B_EQ: return x == y ? 1 : 0;
    case B_NE: return x != y ? 1 : 0;
    case B_LT: return x < y ? 1 : 0;
    case B_LE: return x <= y ? 1 : 0;
    case B_GT: return x > y ? 1 : 0;
    default: return x >= y ? 1 : 0;
  }
}

/** The loop of `binary` for one op and mode (inlined with constants, so the body has no branch). */
// @ts-ignore: decorator
@inline function binaryLoop(op: i32, mode: i32, a: usize, b: usize, out: usize, i0: i32, i1: i32): void {
  const sa = mode == 2;
  const sb = mode == 1;
  const va = v128.load32_splat(a);
  const vb = v128.load32_splat(b);
  let i = i0;
  for (; i + 8 <= i1; i += 8) {
    const o = <usize>i << 2;
    const x0 = sa ? va : v128.load(a + o), x1 = sa ? va : v128.load(a + o, 16);
    const y0 = sb ? vb : v128.load(b + o), y1 = sb ? vb : v128.load(b + o, 16);
    v128.store(out + o, bin4(op, x0, y0));
    v128.store(out + o, bin4(op, x1, y1), 16);
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const x = sa ? load<f32>(a) : load<f32>(a + o);
    const y = sb ? load<f32>(b) : load<f32>(b + o);
    store<f32>(out + o, bin1(op, x, y));
  }
}

/** binaryLoop for one op, the mode chosen here. */
// @ts-ignore: decorator
@inline function binaryModes(op: i32, a: usize, b: usize, out: usize, mode: i32, i0: i32, i1: i32): void {
  if (mode == 0) binaryLoop(op, 0, a, b, out, i0, i1);
  else if (mode == 1) binaryLoop(op, 1, a, b, out, i0, i1);
  else binaryLoop(op, 2, a, b, out, i0, i1);
}

/**
 * out[i] = a[i] (op) b[i] for i in i0 .. i1-1. mode 0: both full; 1: b is a
 * scalar (b[0]); 2: a is a scalar (a[0]).
 */
export function binary(op: i32, a: usize, b: usize, out: usize, mode: i32, i0: i32, i1: i32): void {
  switch (op) {
    case B_ADD: binaryModes(B_ADD, a, b, out, mode, i0, i1); break;
    case B_SUB: binaryModes(B_SUB, a, b, out, mode, i0, i1); break;
    case B_MUL: binaryModes(B_MUL, a, b, out, mode, i0, i1); break;
    case B_DIV: binaryModes(B_DIV, a, b, out, mode, i0, i1); break;
    case B_MAX: binaryModes(B_MAX, a, b, out, mode, i0, i1); break;
    case B_MIN: binaryModes(B_MIN, a, b, out, mode, i0, i1); break;
    case B_EQ: binaryModes(B_EQ, a, b, out, mode, i0, i1); break;
    case B_NE: binaryModes(B_NE, a, b, out, mode, i0, i1); break;
    case B_LT: binaryModes(B_LT, a, b, out, mode, i0, i1); break;
    case B_LE: binaryModes(B_LE, a, b, out, mode, i0, i1); break;
    case B_GT: binaryModes(B_GT, a, b, out, mode, i0, i1); break;
    default: binaryModes(B_GE, a, b, out, mode, i0, i1);
  }
}

/**
 * Sum of the middle axis of x viewed as [outer, size, inner] into out
 * [outer, inner], accumulated in f64 (as the reference).
 */
export function reduce_sum(x: usize, outer: i32, size: i32, inner: i32, out: usize, acc: usize): void {
  for (let o = 0; o < outer; o++) {
    const base = x + (<usize>(o * size * inner) << 2);
    if (inner == 1) {
      let s: f64 = 0;
      let k = 0;
      let v2 = f64x2.splat(0);
      let w2 = f64x2.splat(0);
      for (; k + 4 <= size; k += 4) {
        const v = v128.load(base + (<usize>k << 2));
        v2 = f64x2.add(v2, f64x2.promote_low_f32x4(v));
        w2 = f64x2.add(w2, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
      }
      const t = f64x2.add(v2, w2);
      s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
      for (; k < size; k++) s += <f64>load<f32>(base + (<usize>k << 2));
      store<f32>(out + (<usize>o << 2), <f32>s);
      continue;
    }
    // acc: inner f64 partial sums
    memory.fill(acc, 0, <usize>inner << 3);
    for (let s = 0; s < size; s++) {
      const row = base + (<usize>(s * inner) << 2);
      let i = 0;
      for (; i + 2 <= inner; i += 2) {
        const p = acc + (<usize>i << 3);
        const two = v128.load64_zero(row + (<usize>i << 2));
        v128.store(p, f64x2.add(v128.load(p), f64x2.promote_low_f32x4(two)));
      }
      for (; i < inner; i++) {
        const p = acc + (<usize>i << 3);
        store<f64>(p, load<f64>(p) + <f64>load<f32>(row + (<usize>i << 2)));
      }
    }
    const ob = out + (<usize>(o * inner) << 2);
    for (let i = 0; i < inner; i++) store<f32>(ob + (<usize>i << 2), <f32>load<f64>(acc + (<usize>i << 3)));
  }
}

/**
 * Softmax (log-softmax when `log`) along the middle axis of [outer, size,
 * inner], max-subtracted, in f64.
 */
export function softmax(x: usize, outer: i32, size: i32, inner: i32, log: bool, out: usize): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = <usize>(o * size * inner + i);
      const st = <usize>inner << 2;
      const xp = x + (base << 2);
      const op = out + (base << 2);
      let m: f64 = -Infinity;
      for (let s = 0; s < size; s++) m = Math.max(m, <f64>load<f32>(xp + <usize>s * st));
      let sum: f64 = 0;
      for (let s = 0; s < size; s++) sum += Math.exp(<f64>load<f32>(xp + <usize>s * st) - m);
      if (log) {
        const lse = Math.log(sum);
        for (let s = 0; s < size; s++) store<f32>(op + <usize>s * st, <f32>(<f64>load<f32>(xp + <usize>s * st) - m - lse));
      } else {
        for (let s = 0; s < size; s++) store<f32>(op + <usize>s * st, <f32>(Math.exp(<f64>load<f32>(xp + <usize>s * st) - m) / sum));
      }
    }
  }
}

/** softmax: gx = y (gy - sum(gy y)); log-softmax: gx = gy - e^y sum(gy). */
export function softmax_backward(y: usize, gy: usize, outer: i32, size: i32, inner: i32, log: bool, gx: usize): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = <usize>(o * size * inner + i) << 2;
      const st = <usize>inner << 2;
      let dot: f64 = 0;
      for (let s = 0; s < size; s++) {
        const k = base + <usize>s * st;
        const g = <f64>load<f32>(gy + k);
        dot += log ? g : g * <f64>load<f32>(y + k);
      }
      for (let s = 0; s < size; s++) {
        const k = base + <usize>s * st;
        const g = <f64>load<f32>(gy + k);
        const yv = <f64>load<f32>(y + k);
        store<f32>(gx + k, <f32>(log ? g - Math.exp(yv) * dot : yv * (g - dot)));
      }
    }
  }
}
