/**
 * What the native convolution layouts share: the interface each one
 * implements, the table that picks the first layout that takes a pass, the
 * grow-only scratch buffers the OpenBLAS layouts work in, and the rules more
 * than one of them uses.
 *
 * A layout computes the three passes on float32 arrays only; the table sends
 * every other call (float64, or a pass no layout takes) to its fallback.
 */
import type { Conv2dGeometry, KernelSignatures } from '../backend.js';
import { applyConvEpilogue } from '../ref/conv.js';

export type ConvKernels = Pick<KernelSignatures, 'conv2dForward' | 'conv2dForwardFused' | 'conv2dBackwardInput' | 'conv2dBackwardFilter'>;

export type ConvPass = 'forward' | 'backwardInput' | 'backwardFilter';

/** One way of computing a convolution's passes (see conv.ts for the table of them). */
export interface ConvLayout {
  /** Whether this layout computes `pass` of g (`bias`: whether the forward pass adds one, or the filter pass writes its gradient). */
  applies(pass: ConvPass, g: Conv2dGeometry, bias: boolean): boolean;
  forward(x: Float32Array, w: Float32Array, bias: Float32Array | null, g: Conv2dGeometry, y: Float32Array): void;
  /**
   * The forward pass with the epilogue of conv2dForwardFused computed in the same pass, where the
   * layout can (false: it did nothing, and the table runs `forward`, then the epilogue).
   */
  forwardFused?(x: Float32Array, w: Float32Array, bias: Float32Array | null, g: Conv2dGeometry, residual: Float32Array | null, relu: boolean, y: Float32Array): boolean;
  backwardInput(gy: Float32Array, w: Float32Array, g: Conv2dGeometry, gx: Float32Array): void;
  backwardFilter(x: Float32Array, gy: Float32Array, g: Conv2dGeometry, gw: Float32Array, gb: Float32Array | null): void;
}

/**
 * The kernels: each call goes to the first of `layouts` that applies, else (and for float64 arrays) to
 * `fallback`. A fused forward runs in the layout's own forwardFused where it has one, else as its
 * forward followed by the reference epilogue (applyConvEpilogue).
 */
export function selectConv(layouts: readonly ConvLayout[], fallback: ConvKernels): ConvKernels {
  function pick(pass: ConvPass, g: Conv2dGeometry, bias: boolean): ConvLayout | null {
    for (const layout of layouts) if (layout.applies(pass, g, bias)) return layout;
    return null;
  }
  return {
    conv2dForward(x, w, b, g, y) {
      if (x instanceof Float32Array && w instanceof Float32Array && y instanceof Float32Array && (b === null || b instanceof Float32Array)) {
        const layout = pick('forward', g, b !== null);
        if (layout) return layout.forward(x, w, b, g, y);
      }
      fallback.conv2dForward(x, w, b, g, y);
    },
    conv2dForwardFused(x, w, b, g, residual, relu, y) {
      if (
        x instanceof Float32Array && w instanceof Float32Array && y instanceof Float32Array &&
        (b === null || b instanceof Float32Array) && (residual === null || residual instanceof Float32Array)
      ) {
        const layout = pick('forward', g, b !== null);
        if (layout) {
          if (layout.forwardFused?.(x, w, b, g, residual, relu, y)) return;
          layout.forward(x, w, b, g, y);
          applyConvEpilogue(y, residual, relu);
          return;
        }
      }
      fallback.conv2dForwardFused(x, w, b, g, residual, relu, y);
    },
    conv2dBackwardInput(gy, w, g, gx) {
      if (gy instanceof Float32Array && w instanceof Float32Array && gx instanceof Float32Array) {
        const layout = pick('backwardInput', g, false);
        if (layout) return layout.backwardInput(gy, w, g, gx);
      }
      fallback.conv2dBackwardInput(gy, w, g, gx);
    },
    conv2dBackwardFilter(x, gy, g, gw, gb) {
      if (x instanceof Float32Array && gy instanceof Float32Array && gw instanceof Float32Array && (gb === null || gb instanceof Float32Array)) {
        const layout = pick('backwardFilter', g, gb !== null);
        if (layout) return layout.backwardFilter(x, gy, g, gw, gb);
      }
      fallback.conv2dBackwardFilter(x, gy, g, gw, gb);
    },
  };
}

/** The scratch buffers of the OpenBLAS layouts, one per role (a call never uses one buffer for two roles). */
export type ScratchSlot = 'xpad' | 'col' | 'out' | 'flat' | 'flatWeights' | 'gatherWeights';

/**
 * Scratch memory kept between calls (grow-only), so a training loop does not
 * allocate or zero tens of megabytes per step; owned by one backend, which
 * frees it with release().
 */
export class ConvScratch {
  private readonly buffers = new Map<ScratchSlot, Float32Array>();

  /** The kept buffer of `slot` with at least `n` floats (contents undefined). */
  get(slot: ScratchSlot, n: number): Float32Array {
    let a = this.buffers.get(slot);
    if (!a || a.length < n) {
      a = new Float32Array(Math.max(n, Math.ceil((a?.length ?? 0) * 1.25)));
      this.buffers.set(slot, a);
    }
    return a;
  }

  /** Frees every buffer (they are allocated again on the next call that needs them). */
  release(): void {
    this.buffers.clear();
  }
}

/**
 * Whether the input gradient of a stride-1 convolution takes the gather form
 * (a correlation of gy, padded by (k-1)*d - pad on each side, with the flipped
 * kernel) rather than the scatter form (the adjoint of the forward): it needs
 * that padding to be >= 0 before, and its GEMM has cg rows, so with fewer
 * input than output channels (LeNet's conv2) the scatter form moves less.
 */
export function gatherInputGradient(g: Conv2dGeometry): boolean {
  const { kH, kW, dilationH, dilationW, inH, inW } = g;
  const gatherRows = (g.outC / g.groups) * kH * kW * (inH + (kH - 1) * dilationH) * (inW + (kW - 1) * dilationW);
  const scatterRows = (g.inC / g.groups) * kH * kW * (g.outH + (kH - 1) * dilationH) * (g.outW + (kW - 1) * dilationW);
  return (kH - 1) * dilationH - g.padTop >= 0 && (kW - 1) * dilationW - g.padLeft >= 0 && scatterRows >= gatherRows;
}
