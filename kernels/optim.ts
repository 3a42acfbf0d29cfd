/**
 * Optimizer updates over elements i0 .. i1-1, in place (same rule as
 * src/backends/ref/optim.ts, in float32 arithmetic, as PyTorch's own
 * float32 step):
 *   g = grad + wd * w
 *   buf = first ? g : momentum * buf + keep * g        (keep = 1 - dampening)
 *   w = w - lr * (nesterov ? g + momentum * buf : buf)
 * Only called with momentum > 0 (plain SGD stays on the caller's loop).
 */
export function sgd_step(w: usize, grad: usize, buf: usize, i0: i32, i1: i32, lr: f32, momentum: f32, keep: f32, wd: f32, nesterov: bool, first: bool): void {
  const vlr = f32x4.splat(lr), vm = f32x4.splat(momentum), vk = f32x4.splat(keep), vwd = f32x4.splat(wd);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const wv = v128.load(w + o);
    const g = f32x4.add(v128.load(grad + o), f32x4.mul(vwd, wv));
    const b = first ? g : f32x4.add(f32x4.mul(vm, v128.load(buf + o)), f32x4.mul(vk, g));
    v128.store(buf + o, b);
    const d = nesterov ? f32x4.add(g, f32x4.mul(vm, b)) : b;
    v128.store(w + o, f32x4.sub(wv, f32x4.mul(vlr, d)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const wv = load<f32>(w + o);
    const g = load<f32>(grad + o) + wd * wv;
    const b = first ? g : momentum * load<f32>(buf + o) + keep * g;
    store<f32>(buf + o, b);
    store<f32>(w + o, wv - lr * (nesterov ? g + momentum * b : b));
  }
}
