/**
 * Batch normalization over x viewed as [batch, channels, spatial], channels
 * c0 .. c1-1 (so the host can split channels over threads). Sums accumulate
 * in f64 (pairs of f64x2 lanes), as the reference does in JS numbers.
 */

/** The two low lanes and the two high lanes of v, as f64x2. */
// @ts-ignore: decorator
@inline function lo64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

// @ts-ignore: decorator
@inline function hi64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

/** Sum of n floats at p, in f64 (four f64x2 partial sums, so the adds overlap). */
// @ts-ignore: decorator
@inline function sum64(p: usize, n: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0), c = f64x2.splat(0), d = f64x2.splat(0);
  let k = 0;
  for (; k + 8 <= n; k += 8) {
    const v = v128.load(p + (<usize>k << 2)), w = v128.load(p + (<usize>k << 2), 16);
    a = f64x2.add(a, lo64(v));
    b = f64x2.add(b, hi64(v));
    c = f64x2.add(c, lo64(w));
    d = f64x2.add(d, hi64(w));
  }
  if (k + 4 <= n) {
    const v = v128.load(p + (<usize>k << 2));
    a = f64x2.add(a, lo64(v));
    b = f64x2.add(b, hi64(v));
    k += 4;
  }
  const t = f64x2.add(f64x2.add(a, b), f64x2.add(c, d));
  let s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
  for (; k < n; k++) s += <f64>load<f32>(p + (<usize>k << 2));
  return s;
}

/** Sum of (x - mu)^2 over n floats at p, in f64. */
// @ts-ignore: decorator
@inline function sumSq64(p: usize, n: i32, mu: f64): f64 {
  const vmu = f64x2.splat(mu);
  let a = f64x2.splat(0), b = f64x2.splat(0), c = f64x2.splat(0), d = f64x2.splat(0);
  let k = 0;
  for (; k + 8 <= n; k += 8) {
    const v = v128.load(p + (<usize>k << 2)), w = v128.load(p + (<usize>k << 2), 16);
    const d0 = f64x2.sub(lo64(v), vmu), d1 = f64x2.sub(hi64(v), vmu);
    const d2 = f64x2.sub(lo64(w), vmu), d3 = f64x2.sub(hi64(w), vmu);
    a = f64x2.add(a, f64x2.mul(d0, d0));
    b = f64x2.add(b, f64x2.mul(d1, d1));
    c = f64x2.add(c, f64x2.mul(d2, d2));
    d = f64x2.add(d, f64x2.mul(d3, d3));
  }
  if (k + 4 <= n) {
    const v = v128.load(p + (<usize>k << 2));
    const d0 = f64x2.sub(lo64(v), vmu), d1 = f64x2.sub(hi64(v), vmu);
    a = f64x2.add(a, f64x2.mul(d0, d0));
    b = f64x2.add(b, f64x2.mul(d1, d1));
    k += 4;
  }
  const t = f64x2.add(f64x2.add(a, b), f64x2.add(c, d));
  let s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
  for (; k < n; k++) {
    const e = <f64>load<f32>(p + (<usize>k << 2)) - mu;
    s += e * e;
  }
  return s;
}

/** mean[c] = (1/M) sum x, variance[c] = (1/M) sum (x - mean)^2 with M = batch * spatial. */
export function bn_stats(x: usize, batch: i32, channels: i32, spatial: i32, mean: usize, variance: usize, c0: i32, c1: i32): void {
  const m = <f64>batch * <f64>spatial;
  for (let c = c0; c < c1; c++) {
    let s: f64 = 0;
    for (let n = 0; n < batch; n++) s += sum64(x + (<usize>((n * channels + c) * spatial) << 2), spatial);
    const mu = s / m;
    let ss: f64 = 0;
    for (let n = 0; n < batch; n++) ss += sumSq64(x + (<usize>((n * channels + c) * spatial) << 2), spatial, mu);
    store<f32>(mean + (<usize>c << 2), <f32>mu);
    store<f32>(variance + (<usize>c << 2), <f32>(ss / m));
  }
}

/** y = (x - mean[c]) * (invstd[c] * weight[c]) + bias[c]; weight / bias 0 mean 1 / 0. */
export function bn_forward(
  x: usize, mean: usize, invstd: usize, weight: usize, bias: usize, y: usize,
  batch: i32, channels: i32, spatial: i32, c0: i32, c1: i32,
): void {
  for (let c = c0; c < c1; c++) {
    const co = <usize>c << 2;
    const mu = load<f32>(mean + co);
    const scale: f32 = <f32>(<f64>load<f32>(invstd + co) * (weight ? <f64>load<f32>(weight + co) : 1));
    const shift: f32 = bias ? load<f32>(bias + co) : 0;
    const vmu = f32x4.splat(mu);
    const vsc = f32x4.splat(scale);
    const vsh = f32x4.splat(shift);
    for (let n = 0; n < batch; n++) {
      const off = <usize>((n * channels + c) * spatial) << 2;
      const xp = x + off;
      const yp = y + off;
      let k = 0;
      for (; k + 8 <= spatial; k += 8) {
        const o = <usize>k << 2;
        const v = v128.load(xp + o), w = v128.load(xp + o, 16);
        v128.store(yp + o, f32x4.add(f32x4.mul(f32x4.sub(v, vmu), vsc), vsh));
        v128.store(yp + o, f32x4.add(f32x4.mul(f32x4.sub(w, vmu), vsc), vsh), 16);
      }
      for (; k + 4 <= spatial; k += 4) {
        const o = <usize>k << 2;
        v128.store(yp + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(xp + o), vmu), vsc), vsh));
      }
      for (; k < spatial; k++) {
        const o = <usize>k << 2;
        store<f32>(yp + o, (load<f32>(xp + o) - mu) * scale + shift);
      }
    }
  }
}

/**
 * With xhat = (x - mean) * invstd and M = batch * spatial, per channel:
 *   gweight = sum(gy * xhat), gbias = sum(gy);
 *   training: gx = w * invstd / M * (M * gy - sum(gy) - xhat * sum(gy * xhat));
 *   eval:     gx = w * invstd * gy.
 * Outputs given as 0 are skipped.
 */
export function bn_backward(
  x: usize, gy: usize, mean: usize, invstd: usize, weight: usize,
  batch: i32, channels: i32, spatial: i32, training: bool,
  gx: usize, gweight: usize, gbias: usize, c0: i32, c1: i32,
): void {
  const m = <f64>batch * <f64>spatial;
  for (let c = c0; c < c1; c++) {
    const co = <usize>c << 2;
    const mu = load<f32>(mean + co);
    const is = load<f32>(invstd + co);
    const vmu = f32x4.splat(mu);
    // sum(gy) and sum(gy * (x - mean)) in f64; sum(gy * xhat) = invstd * the latter
    let sumGy: f64 = 0;
    let sumGyD: f64 = 0;
    for (let n = 0; n < batch; n++) {
      const off = <usize>((n * channels + c) * spatial) << 2;
      const xp = x + off;
      const gp = gy + off;
      // eight f64x2 partial sums (gy and gy * (x - mean), low and high lanes, two vectors a step)
      let a = f64x2.splat(0), b = f64x2.splat(0), e = f64x2.splat(0), f = f64x2.splat(0);
      let a2 = f64x2.splat(0), b2 = f64x2.splat(0), e2 = f64x2.splat(0), f2 = f64x2.splat(0);
      let k = 0;
      for (; k + 8 <= spatial; k += 8) {
        const o = <usize>k << 2;
        const g = v128.load(gp + o), g2 = v128.load(gp + o, 16);
        const gd = f32x4.mul(g, f32x4.sub(v128.load(xp + o), vmu));
        const gd2 = f32x4.mul(g2, f32x4.sub(v128.load(xp + o, 16), vmu));
        a = f64x2.add(a, lo64(g));
        b = f64x2.add(b, hi64(g));
        e = f64x2.add(e, lo64(gd));
        f = f64x2.add(f, hi64(gd));
        a2 = f64x2.add(a2, lo64(g2));
        b2 = f64x2.add(b2, hi64(g2));
        e2 = f64x2.add(e2, lo64(gd2));
        f2 = f64x2.add(f2, hi64(gd2));
      }
      for (; k + 4 <= spatial; k += 4) {
        const o = <usize>k << 2;
        const g = v128.load(gp + o);
        const gd = f32x4.mul(g, f32x4.sub(v128.load(xp + o), vmu));
        a = f64x2.add(a, lo64(g));
        b = f64x2.add(b, hi64(g));
        e = f64x2.add(e, lo64(gd));
        f = f64x2.add(f, hi64(gd));
      }
      const t = f64x2.add(f64x2.add(a, b), f64x2.add(a2, b2));
      const u = f64x2.add(f64x2.add(e, f), f64x2.add(e2, f2));
      sumGy += f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
      sumGyD += f64x2.extract_lane(u, 0) + f64x2.extract_lane(u, 1);
      for (; k < spatial; k++) {
        const o = <usize>k << 2;
        const g = <f64>load<f32>(gp + o);
        sumGy += g;
        sumGyD += g * <f64>(load<f32>(xp + o) - mu);
      }
    }
    const sumGyXhat = sumGyD * <f64>is;
    if (gweight) store<f32>(gweight + co, <f32>sumGyXhat);
    if (gbias) store<f32>(gbias + co, <f32>sumGy);
    if (!gx) continue;
    const w: f64 = weight ? <f64>load<f32>(weight + co) : 1;
    // training: gx = k1 * gy - k0 - k2 * (x - mean), with k1 = w*invstd, k0 = w*invstd*sum(gy)/M,
    // k2 = w*invstd^2*sum(gy*xhat)/M; eval: gx = w*invstd*gy.
    const k1 = <f32>(w * <f64>is);
    const k0 = training ? <f32>(w * <f64>is * sumGy / m) : 0;
    const k2 = training ? <f32>(w * <f64>is * <f64>is * sumGyXhat / m) : 0;
    const v1 = f32x4.splat(k1), v0 = f32x4.splat(k0), v2 = f32x4.splat(k2);
    for (let n = 0; n < batch; n++) {
      const off = <usize>((n * channels + c) * spatial) << 2;
      const xp = x + off;
      const gp = gy + off;
      const op = gx + off;
      let k = 0;
      for (; k + 8 <= spatial; k += 8) {
        const o = <usize>k << 2;
        const d = f32x4.sub(v128.load(xp + o), vmu), d2 = f32x4.sub(v128.load(xp + o, 16), vmu);
        v128.store(op + o, f32x4.sub(f32x4.sub(f32x4.mul(v128.load(gp + o), v1), v0), f32x4.mul(d, v2)));
        v128.store(op + o, f32x4.sub(f32x4.sub(f32x4.mul(v128.load(gp + o, 16), v1), v0), f32x4.mul(d2, v2)), 16);
      }
      for (; k + 4 <= spatial; k += 4) {
        const o = <usize>k << 2;
        const d = f32x4.sub(v128.load(xp + o), vmu);
        v128.store(op + o, f32x4.sub(f32x4.sub(f32x4.mul(v128.load(gp + o), v1), v0), f32x4.mul(d, v2)));
      }
      for (; k < spatial; k++) {
        const o = <usize>k << 2;
        store<f32>(op + o, load<f32>(gp + o) * k1 - k0 - (load<f32>(xp + o) - mu) * k2);
      }
    }
  }
}
