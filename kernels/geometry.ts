/**
 * The geometry blocks the host writes for the convolution and pooling kernels:
 * i32 fields in the order of these enums, named after the fields of
 * Conv2dGeometry and Pool2dGeometry (src/backends/backend.ts). This file is the
 * one definition of both layouts: scripts/build-wasm.mjs generates the host's
 * field lists from it (src/backends/wasm/generated/geometry.ts), and the
 * typecheck fails when a name here is not a field of the TypeScript interface.
 * Fields take their position only (no `= value`): the build checks.
 */

/** The block of conv.ts and winograd.ts (Winograd: kH = kW = 3, stride 1, dilation 1, groups 1). */
export const enum Conv2dGeometry {
  batch, inC, inH, inW, outC, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW, groups, outH, outW,
}

/** The block of pool.ts. */
export const enum Pool2dGeometry {
  planes, inH, inW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW, outH, outW,
}

/** Field `k` of the geometry block at `g`. */
// @ts-ignore: decorator
@inline export function gi(g: usize, k: i32): i32 {
  return load<i32>(g + (<usize>k << 2));
}
