/**
 * Kernel-level tests of the wasm backend: its GEMM, convolutions, pooling,
 * batch norm and element-wise kernels called directly, against naive loops
 * written here (in float64), on many odd sizes so every edge tile of the
 * 4x8 register tile and every KC / NC block boundary is met; threaded against
 * single-threaded results; the single-thread fallback without shared memory.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';

import '../../src/backends/wasm/node.js';
import { backendInfo, getBackend, listBackends, setBackend, setThreads, ValueError } from '../../src/index.js';
import type { Conv2dGeometry, Pool2dGeometry } from '../../src/backends/backend.js';
import { refBackend } from '../../src/backends/ref/index.js';
import { wasmBackend, wasmRuntime } from '../../src/backends/wasm/index.js';
import { wasmKernels, winogradFilterTile, winogradTile } from '../../src/backends/wasm/kernels.js';
import { compileSync, unshareMemoryImport, WasmRuntime } from '../../src/backends/wasm/runtime.js';
import { CTRL_INTS, NEXT_CHUNK, READY, runChunks } from '../../src/backends/wasm/control.js';
import type { WorkerInit } from '../../src/backends/wasm/platform.js';
import { nodePlatform } from '../../src/backends/wasm/node.js';
import { RELAXED_WASM } from '../../src/backends/wasm/generated/kernels.js';
import { CONV2D_GEOMETRY_FIELDS } from '../../src/backends/wasm/generated/geometry.js';
import { assertClose, naiveConv, naiveConvBackward, ok, uniformArray } from '../helpers/index.js';
import { reachedPadding } from '../../src/ops/conv2d.js';

/** Deterministic values in [-1, 1) from a seeded Generator, so failures reproduce. */
const rnd = (n: number, seed = 1): Float32Array => uniformArray(n, seed);

/** C = alpha op(A) op(B) + beta C by the definition, in float64. */
function naiveGemm(
  tA: boolean, tB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, B: Float32Array, bOff: number, beta: number, C: Float32Array, cOff: number,
): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[aOff + (tA ? k * M + i : i * K + k)] * B[bOff + (tB ? j * K + k : k * N + j)];
      out[i * N + j] = alpha * s + (beta === 0 ? 0 : beta * C[cOff + i * N + j]);
    }
  }
  return out;
}

/** Waits (up to 10 s) until the runtime's workers have started. */
async function workersReady(): Promise<void> {
  const rt = wasmRuntime();
  if (!rt) return;
  const t0 = Date.now();
  while (rt.readyWorkers() < rt.threads - 1 && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 10));
}

const available = listBackends().includes('wasm');
const k = wasmBackend.kernels;

describe('wasm backend', { skip: !available && 'WebAssembly SIMD is not available here' }, () => {
  let previous = 'ref';
  before(() => {
    previous = getBackend().name;
    setBackend('wasm');
  });
  after(() => {
    setThreads(null);
    setBackend(previous);
  });

  test('backendInfo names the backend, its threads and SIMD flavour', () => {
    const info = backendInfo();
    assert.equal(info.name, 'wasm');
    ok(info.simd === 'relaxed' || info.simd === 'plain', `simd flavour ${info.simd}`);
    ok(Number.isInteger(info.threads) && info.threads >= 1, `threads ${info.threads}`);
    // Node 20 gets relaxed SIMD through the V8 flag that the Node platform sets
    assert.equal(info.simd, WebAssembly.validate(Uint8Array.from(atob(RELAXED_WASM), (c) => c.charCodeAt(0))) ? 'relaxed' : 'plain');
  });

  test('setThreads and setBackend({ threads }) check their argument', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => setThreads(bad), (e: unknown) => e instanceof ValueError && /setThreads: threads must be an integer >= 1, got/.test(e.message));
      assert.throws(() => setBackend('wasm', { threads: bad }), (e: unknown) => e instanceof ValueError && /setBackend: threads must be an integer >= 1/.test(e.message));
    }
    // no more threads than logical cores (os.availableParallelism)
    const cores = availableParallelism();
    for (const many of [cores + 1, 100_000]) {
      assert.throws(() => setThreads(many), (e: unknown) => e instanceof ValueError && e.message.includes(`setThreads: threads must be at most the ${cores} logical core`) && e.message.includes(`got ${many}`));
      assert.throws(() => setBackend('wasm', { threads: many }), (e: unknown) => e instanceof ValueError && e.message.includes(`at most the ${cores} logical core`));
    }
    setBackend('wasm', { threads: cores });
    assert.equal(backendInfo().threads, cores);
    setBackend('wasm', { threads: 1 });
    assert.equal(backendInfo().threads, 1);
    setThreads(null);
  });

  test('runChunks: a thread takes chunks in turn until the range is covered, each chunk with its own output address', () => {
    const ctrl = new Int32Array(new SharedArrayBuffer(64));
    const seen: number[][] = [];
    const fn = (...a: number[]) => { seen.push([a[1], a[2], a[3]]); };
    // 23 items in chunks of 5; the range sits at args[1], args[2]; the output at args[3] moves 64 bytes a chunk
    runChunks(fn, [7, 0, 0, 1000], { rangeAt: 1, items: 23, chunk: 5, outAt: 3, outStride: 64 }, ctrl);
    assert.deepEqual(seen, [[0, 5, 1000], [5, 10, 1064], [10, 15, 1128], [15, 20, 1192], [20, 23, 1256]]);
    // another thread arriving later finds nothing left; the counter is shared
    seen.length = 0;
    runChunks(fn, [7, 0, 0, 1000], { rangeAt: 1, items: 23, chunk: 5, outAt: 3, outStride: 64 }, ctrl);
    assert.deepEqual(seen, []);
    // two takers interleaved through the counter each get whole chunks, none twice
    Atomics.store(ctrl, NEXT_CHUNK, 0);
    const a: number[] = [];
    const b: number[] = [];
    runChunks((...x: number[]) => { a.push(x[0]); if (a.length === 1) runChunks((...y: number[]) => { b.push(y[0]); }, [0, 0], { rangeAt: 0, items: 10, chunk: 3, outAt: -1, outStride: 0 }, ctrl); }, [0, 0], { rangeAt: 0, items: 10, chunk: 3, outAt: -1, outStride: 0 }, ctrl);
    assert.deepEqual([a, b], [[0], [3, 6, 9]]);
    // an empty range is one chunk [0, 0) for the first taker, none for the others
    Atomics.store(ctrl, NEXT_CHUNK, 0);
    seen.length = 0;
    runChunks(fn, [7, 5, 5, 1000], { rangeAt: 1, items: 0, chunk: 1, outAt: 3, outStride: 64 }, ctrl);
    runChunks(fn, [7, 5, 5, 1000], { rangeAt: 1, items: 0, chunk: 1, outAt: 3, outStride: 64 }, ctrl);
    assert.deepEqual(seen, [[0, 0, 1000]]);
  });

  test('a filter gradient of no images is zeros (the kernel still runs once)', () => {
    const g = geometry(0, 16, 6, 6, 16, 3, 3, { p: [1, 1, 1, 1] });
    for (const gg of [g, geometry(0, 6, 14, 14, 16, 5, 5), geometry(0, 1, 28, 28, 6, 5, 5, { p: [2, 2, 2, 2] })]) {
      const gw = new Float32Array(gg.outC * gg.inC * gg.kH * gg.kW).fill(Number.NaN);
      const gb = new Float32Array(gg.outC).fill(Number.NaN);
      k.conv2dBackwardFilter(new Float32Array(0), new Float32Array(0), gg, gw, gb);
      assert.deepEqual([...gw], new Array(gw.length).fill(0));
      assert.deepEqual([...gb], new Array(gb.length).fill(0));
    }
  });

  test('gemm matches the definition for odd sizes, every transpose, alpha and beta, and offsets', () => {
    const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 13, 17, 33];
    let seed = 7;
    for (const M of sizes) {
      for (const N of [1, 3, 8, 9, 15, 17, 31]) {
        for (const K of [1, 4, 6, 19]) {
          for (const tA of [false, true]) {
            for (const tB of [false, true]) {
              const aOff = 3;
              const bOff = 5;
              const cOff = 2;
              const A = rnd(aOff + M * K, seed++);
              const B = rnd(bOff + K * N, seed++);
              const C = rnd(cOff + M * N + 4, seed++);
              const alpha = 0.75;
              const beta = M % 2 === 0 ? 0.5 : 1;
              const want = naiveGemm(tA, tB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff);
              const got = C.slice();
              k.gemm(tA, tB, M, N, K, alpha, A, aOff, B, bOff, beta, got, cOff);
              assertClose(got.subarray(cOff, cOff + M * N), want, 1e-5, `gemm ${M}x${N}x${K} tA=${tA} tB=${tB}`);
              // the values outside the C block are untouched
              assert.deepEqual([...got.subarray(0, cOff), ...got.subarray(cOff + M * N)], [...C.subarray(0, cOff), ...C.subarray(cOff + M * N)]);
            }
          }
        }
      }
    }
  });

  test('gemm across KC (256) and NC (2048) blocks and the 4x8 edge tiles', () => {
    for (const [M, N, K] of [[5, 2051, 3], [7, 9, 600], [65, 70, 257], [130, 33, 513]]) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          const A = rnd(M * K, M + K);
          const B = rnd(K * N, N + K);
          const C = rnd(M * N, 3);
          const want = naiveGemm(tA, tB, M, N, K, 1, A, 0, B, 0, 0.25, C, 0);
          k.gemm(tA, tB, M, N, K, 1, A, 0, B, 0, 0.25, C, 0);
          assertClose(C, want, 1e-5 * Math.sqrt(K), `gemm ${M}x${N}x${K} tA=${tA} tB=${tB}`);
        }
      }
    }
  });

  test('gemm with beta 0 ignores NaN in C; K = 0 scales C by beta; alpha 0 leaves beta C', () => {
    const A = rnd(6 * 5, 1);
    const B = rnd(5 * 9, 2);
    const C = new Float32Array(6 * 9).fill(Number.NaN);
    k.gemm(false, false, 6, 9, 5, 1, A, 0, B, 0, 0, C, 0);
    assertClose(C, naiveGemm(false, false, 6, 9, 5, 1, A, 0, B, 0, 0, C, 0), 1e-6, 'beta 0');
    const D = Float32Array.from({ length: 6 }, (_, i) => i + 1);
    k.gemm(false, false, 2, 3, 0, 1, A, 0, B, 0, 2, D, 0);
    assert.deepEqual([...D], [2, 4, 6, 8, 10, 12]);
    k.gemm(false, false, 2, 3, 5, 0, A, 0, B, 0, 0.5, D, 0);
    assert.deepEqual([...D], [1, 2, 3, 4, 5, 6]);
  });

  test('gemm on 2 threads gives the same bits as on 1 (column blocks are independent)', async () => {
    setThreads(2);
    await workersReady();
    const rt = wasmRuntime()!;
    ok(rt.available() === 2, `2 threads available, got ${rt.available()}`);
    // large enough to be split (8M multiply-adds per thread); [800, 40, 600] splits by rows
    for (const [M, N, K] of [[256, 600, 200], [800, 40, 600], [33, 4000, 150]]) {
      for (const tB of [false, true]) {
        const split = rt.stats.parallelJobs;
        const A = rnd(M * K, 11);
        const B = rnd(K * N, 12);
        const two = new Float32Array(M * N);
        k.gemm(false, tB, M, N, K, 1, A, 0, B, 0, 0, two, 0);
        assert.equal(rt.stats.parallelJobs, split + 1, `${M}x${N}x${K} ran on two threads`);
        setThreads(1);
        const one = new Float32Array(M * N);
        k.gemm(false, tB, M, N, K, 1, A, 0, B, 0, 0, one, 0);
        setThreads(2);
        await workersReady();
        assert.deepEqual(two, one, `${M}x${N}x${K}`);
        assertClose(one, naiveGemm(false, tB, M, N, K, 1, A, 0, B, 0, 0, one, 0), 1e-5 * Math.sqrt(K), 'vs definition');
      }
    }
    setThreads(null);
  });

  function geometry(batch: number, inC: number, inH: number, inW: number, outC: number, kH: number, kW: number,
    o: { s?: [number, number]; p?: [number, number, number, number]; d?: [number, number]; groups?: number } = {}): Conv2dGeometry {
    const [sH, sW] = o.s ?? [1, 1];
    const [pT, pB, pL, pR] = o.p ?? [0, 0, 0, 0];
    const [dH, dW] = o.d ?? [1, 1];
    const outH = Math.floor((inH + pT + pB - dH * (kH - 1) - 1) / sH) + 1;
    const outW = Math.floor((inW + pL + pR - dW * (kW - 1) - 1) / sW) + 1;
    return {
      batch, inC, inH, inW, outC, kH, kW, strideH: sH, strideW: sW, padTop: pT, padLeft: pL,
      padBottom: reachedPadding(inH, kH, sH, pT, dH, outH), padRight: reachedPadding(inW, kW, sW, pL, dW, outW),
      dilationH: dH, dilationW: dW, groups: o.groups ?? 1, outH, outW,
    };
  }

  const convCases: [string, Conv2dGeometry][] = [
    ['3x3 pad 1', geometry(2, 3, 7, 9, 5, 3, 3, { p: [1, 1, 1, 1] })],
    ['LeNet conv1 (1 channel, direct kernel)', geometry(3, 1, 12, 12, 6, 5, 5, { p: [2, 2, 2, 2] })],
    ['1 channel, asymmetric padding', geometry(2, 1, 6, 9, 3, 3, 2, { p: [0, 2, 3, 1] })],
    ['1 channel, odd output width (direct kernels, scalar tails)', geometry(2, 1, 5, 7, 4, 3, 3, { p: [1, 1, 1, 1] })],
    ['depthwise (groups = channels, direct kernels)', geometry(2, 3, 6, 5, 6, 3, 3, { groups: 3, p: [1, 1, 1, 1] })],
    ['RGB stem 3x3 (27 taps, GEMM path)', geometry(2, 3, 9, 10, 8, 3, 3, { p: [1, 1, 1, 1] })],
    ['planes of 272 outputs: one GEMM per image', geometry(2, 4, 17, 16, 5, 3, 3, { p: [1, 1, 1, 1] })],
    ['planes of 200 outputs, batch 7', geometry(7, 3, 10, 20, 4, 3, 3, { p: [1, 1, 1, 1] })],
    ['planes of 30 outputs, batch 36: GEMMs over 34 images, then 2', geometry(36, 3, 5, 6, 4, 3, 3, { p: [1, 1, 1, 1] })],
    ['stride 2, dilation 2', geometry(2, 4, 11, 10, 6, 3, 3, { s: [2, 2], d: [2, 2], p: [2, 1, 0, 2] })],
    ['stride 3 x 1', geometry(1, 2, 9, 13, 3, 2, 4, { s: [3, 1] })],
    ['dilation 2 with same-size output (flat im2col)', geometry(2, 3, 7, 8, 4, 3, 3, { d: [2, 2], p: [2, 2, 2, 2] })],
    ['asymmetric same-size padding (flat im2col)', geometry(2, 3, 6, 7, 2, 4, 4, { p: [1, 2, 2, 1] })],
    ['LeNet conv2: no padding, 10x10 planes (im2col runs without bounds checks)', geometry(2, 6, 14, 14, 5, 5, 5)],
    ['no padding, 7x9 planes batched', geometry(3, 6, 9, 11, 4, 3, 3)],
    ['no padding, dilation 2 x 1', geometry(2, 4, 12, 13, 3, 3, 3, { d: [2, 1] })],
    ['groups 2', geometry(2, 4, 6, 6, 6, 3, 3, { groups: 2, p: [1, 1, 1, 1] })],
    ['1x1 pointwise', geometry(3, 5, 4, 6, 7, 1, 1)],
    ['1x1 stride 2', geometry(2, 3, 5, 5, 4, 1, 1, { s: [2, 2] })],
    ['padding wider than the kernel', geometry(1, 2, 3, 3, 2, 2, 2, { p: [3, 3, 3, 3] })],
    ['64 channels, long reduction (Winograd)', geometry(2, 64, 8, 8, 64, 3, 3, { p: [1, 1, 1, 1] })],
    ['Winograd: 16 -> 17 channels, odd 7x9 output', geometry(3, 16, 7, 9, 17, 3, 3, { p: [1, 1, 1, 1] })],
    ['Winograd: no padding (gradient padded by 2)', geometry(2, 16, 9, 6, 16, 3, 3)],
    ['Winograd: padding 2 (gradient without padding)', geometry(2, 16, 5, 5, 16, 3, 3, { p: [2, 2, 2, 2] })],
    ['Winograd: asymmetric padding', geometry(2, 16, 6, 7, 16, 3, 3, { p: [0, 2, 1, 0] })],
    ['Winograd: 45 images of 5x7, GEMMs over 42 images then 3', geometry(45, 16, 5, 7, 16, 3, 3, { p: [1, 1, 1, 1] })],
    // 20 rows of 20 tiles: forward batches of 6 tile rows (bands inside an image), 4x8 blocks over 65 x 24 channels
    ['Winograd: 24 -> 65 channels on 39x40, batches of bands inside each image', geometry(2, 24, 39, 40, 65, 3, 3, { p: [1, 1, 1, 1] })],
    // 68 tiles a row: filter-gradient batches of 7 tile rows, the last band of an image shorter
    ['Winograd: rows of 135 columns, filter-gradient batches of bands', geometry(2, 16, 17, 135, 20, 3, 3, { p: [1, 1, 1, 1] })],
    // 160 channels: forward batches held to at least 64 tiles (5 images of 12), past the size for L2
    ['Winograd: 160 -> 16 channels on 5x5, forward batches of at least 64 tiles', geometry(7, 160, 5, 5, 16, 3, 3, { p: [1, 1, 1, 1] })],
    // F(4x4, 3x3) forward and input gradient, F(3x3, 4x4) filter gradient (the names say so, the
    // test checks winogradTile and winogradFilterTile)
    ['Winograd F(4x4): 16 -> 20 channels, 11x13 output (3 rows and 1 column past whole tiles)', geometry(3, 16, 11, 13, 20, 3, 3, { p: [1, 1, 1, 1] })],
    ['Winograd F(4x4): 18 -> 17 channels, 10x14 output (2 past whole tiles each way)', geometry(2, 18, 10, 14, 17, 3, 3, { p: [1, 1, 1, 1] })],
    ['Winograd F(4x4): one partial tile row, 3x9 output (no padding; gradient padded by 2)', geometry(2, 16, 5, 11, 19, 3, 3)],
    ['Winograd F(4x4): padding 2 (gradient without padding)', geometry(2, 16, 9, 12, 16, 3, 3, { p: [2, 2, 2, 2] })],
    ['Winograd F(4x4): asymmetric padding, top 0 left 1', geometry(2, 17, 10, 13, 16, 3, 3, { p: [0, 2, 1, 0] })],
    ['Winograd F(4x4): asymmetric padding, top 2 left 2', geometry(2, 16, 9, 14, 21, 3, 3, { p: [2, 0, 2, 1] })],
    // 3 tile rows of 4 tiles: forward batches of 18 images, so 40 = 18 + 18 + 4
    ['Winograd F(4x4): 40 images of 9x10, batches of several images', geometry(40, 16, 9, 10, 16, 3, 3, { p: [1, 1, 1, 1] })],
    // 8 tile rows of 16 tiles (rows of 52 columns, 16 at a time through the phase split): batches of
    // 5 tile rows, so bands of 5 and 3 rows; 65 output channels: groups of 11 and 6 blocks of 4
    ['Winograd F(4x4): 40 -> 65 channels on 30x52, batches of bands inside each image', geometry(2, 40, 30, 52, 65, 3, 3, { p: [1, 1, 1, 1] })],
    // 160 channels: forward batches held to at least 64 tiles (5 images of 12 tiles)
    ['Winograd F(4x4): 160 -> 16 channels on 9x10, forward batches of at least 64 tiles', geometry(7, 160, 9, 10, 16, 3, 3, { p: [1, 1, 1, 1] })],
    // 15 tile rows of 36 tiles (135 columns, 34 tiles padded to 36): filter-gradient batches of 14
    // tile rows (512 tiles at most), so bands of 14 rows and 1; 19 and 21 channels, not multiples of 4
    ['Winograd F(4x4): 19 -> 21 channels on 58x135, filter-gradient batches of bands', geometry(1, 19, 58, 135, 21, 3, 3, { p: [1, 1, 1, 1] })],
    // 13x9 outputs from 15x10 padded left 1, right 0: 4 tile rows, the last of one row; 3 tiles a row
    ['Winograd F(4x4): 13x9 output, padding left only', geometry(3, 16, 15, 10, 24, 3, 3, { p: [0, 0, 1, 0] })],
  ];

  test('Winograd takes F(4x4, 3x3) where four 4x4 tiles a row waste little, F(2x2, 3x3) elsewhere', () => {
    const same = (b: number, c: number, h: number, w: number) => geometry(b, c, h, w, c, 3, 3, { p: [1, 1, 1, 1] });
    for (const hw of [9, 12, 16, 20, 32, 56]) {
      assert.equal(winogradTile(same(2, 64, hw, hw)), 4, `${hw}x${hw} forward`);
      assert.equal(winogradTile(same(2, 64, hw, hw), true), 4, `${hw}x${hw} input gradient`);
    }
    // outputs at most 8 wide (four 4x4 tiles a row cover 16 columns) or 2 high: F(2x2, 3x3)
    for (const [h, w] of [[2, 2], [3, 3], [5, 5], [7, 7], [8, 8], [32, 8], [2, 32]]) {
      assert.equal(winogradTile(same(2, 16, h, w)), 2, `${h}x${w} forward`);
      assert.equal(winogradTile(same(2, 16, h, w), true), 2, `${h}x${w} input gradient`);
    }
    // a 3x9 output from 5x11 without padding: F(4x4) forward, and for the gradient's 5x11 output
    assert.equal(winogradTile(geometry(2, 16, 5, 11, 16, 3, 3)), 4);
    assert.equal(winogradTile(geometry(2, 16, 5, 11, 16, 3, 3), true), 4);
    // 7x9 from 9x11 without padding: 9 wide, F(4x4)
    assert.equal(winogradTile(geometry(2, 16, 9, 11, 16, 3, 3)), 4);
    // 8 wide out of 10 without padding, the gradient 10 wide: F(2x2) forward, F(4x4) backward
    assert.equal(winogradTile(geometry(2, 16, 12, 10, 16, 3, 3)), 2);
    assert.equal(winogradTile(geometry(2, 16, 12, 10, 16, 3, 3), true), 4);
    // not Winograd: a 1x1 output, 15 channels, stride 2, 5x5 filters
    assert.equal(winogradTile(same(2, 16, 1, 1)), 0);
    assert.equal(winogradTile(same(2, 15, 32, 32)), 0);
    assert.equal(winogradTile(geometry(2, 16, 32, 32, 16, 3, 3, { s: [2, 2], p: [1, 1, 1, 1] })), 0);
    assert.equal(winogradTile(geometry(2, 16, 32, 32, 16, 5, 5, { p: [2, 2, 2, 2] })), 0);
    // the filter gradient's tiles cover dL/dy as the forward's cover y: the forward pass's rule
    for (const hw of [9, 12, 16, 20, 32, 56]) assert.equal(winogradFilterTile(same(2, 64, hw, hw)), 4, `${hw}x${hw} filter gradient`);
    for (const [h, w] of [[2, 2], [3, 3], [5, 5], [7, 7], [8, 8], [32, 8], [2, 32]]) assert.equal(winogradFilterTile(same(2, 16, h, w)), 2, `${h}x${w} filter gradient`);
    assert.equal(winogradFilterTile(geometry(2, 16, 5, 11, 16, 3, 3)), 4);
    assert.equal(winogradFilterTile(geometry(2, 16, 12, 10, 16, 3, 3)), 2);
    assert.equal(winogradFilterTile(same(2, 16, 1, 1)), 0);
    assert.equal(winogradFilterTile(same(2, 15, 32, 32)), 0);
    assert.equal(winogradFilterTile(geometry(2, 16, 32, 32, 16, 3, 3, { s: [2, 2], p: [1, 1, 1, 1] })), 0);
  });

  test('F(3x3, 4x4) filter gradient of a range of images inside a batch, added onto gw, batches of 42 images then 2', () => {
    // 9x10 outputs: 3 tile rows of 3 tiles (padded to 4), 12 tiles an image; 17 + 18 channels: batches
    // of 512 tiles at most, so 42 images; images 1 .. 44 of 46 give batches of 42 and 2 images
    const g = geometry(46, 17, 9, 10, 18, 3, 3, { p: [1, 1, 1, 1] });
    ok(winogradFilterTile(g) === 4, 'F(3x3, 4x4)');
    const x = rnd(g.batch * g.inC * g.inH * g.inW, 41);
    const gy = rnd(g.batch * g.outC * g.outH * g.outW, 42);
    const base = rnd(g.outC * g.inC * 9, 43);
    const rt = wasmRuntime()!;
    const ex = rt.exports;
    const call = (n0: number, n1: number, start: Float32Array, accumulate: boolean): Float32Array => {
      rt.reset();
      const gp = rt.put(Int32Array.from(CONV2D_GEOMETRY_FIELDS, (f) => g[f]));
      const xp = rt.put(x);
      const gyp = rt.put(gy);
      const gwp = rt.put(start);
      const work = rt.alloc(ex.winograd4FilterWorkFloats(gp));
      ex.conv2d_winograd4_filter(xp, gyp, gwp, gp, n0, n1, work, +accumulate);
      const out = new Float32Array(start.length);
      rt.get(gwp, out);
      return out;
    };
    const sub = { ...g, batch: 44 };
    const { gw: want } = naiveConvBackward(x.subarray(g.inC * g.inH * g.inW, 45 * g.inC * g.inH * g.inW), new Float32Array(base.length),
      gy.subarray(g.outC * g.outH * g.outW, 45 * g.outC * g.outH * g.outW), sub);
    const tol = 2e-5 * Math.sqrt(44 * g.outH * g.outW);
    assertClose(call(1, 45, base, true), want.map((v, i) => v + base[i]), tol, 'gw + images 1 .. 44');
    assertClose(call(1, 45, new Float32Array(base.length).fill(Number.NaN), false), want, tol, 'images 1 .. 44, overwritten');
    // no images: gw unchanged when accumulating, else zero
    assert.deepEqual(call(3, 3, base, true), base);
    assert.deepEqual(call(3, 3, base, false), new Float32Array(base.length));
  });

  // F(3x3, 4x4)'s gw errors on these cases are 2.5 to 8 times F(3x3, 2x2)'s (the transforms scale
  // by up to 15 and 10 a row, and A'^T's fractions cancel much of what M_t sums): up to 1.2 of tol * 4
  // (58x135, 2.3e-4) where F(3x3, 2x2) reaches 0.4 of it; on 64 -> 64 channels 32x32, 8 images,
  // 3.1e-4 against 7.5e-5
  const GW4_FACTOR = 4;
  for (const [name, g] of convCases) {
    test(`conv2d forward, backward input and filter match the definition: ${name}`, () => {
      const cg = g.inC / g.groups;
      const x = rnd(g.batch * g.inC * g.inH * g.inW, 21);
      const w = rnd(g.outC * cg * g.kH * g.kW, 22);
      const bias = rnd(g.outC, 23);
      const kk = cg * g.kH * g.kW;
      const tol = 2e-6 * Math.sqrt(kk);
      // F(4x4, 3x3)'s transforms scale values by up to 10 (B^T) and 18 (A^T) where F(2x2)'s scale by 2
      // and 3: on 64 -> 64 channels its largest error is 13x F(2x2)'s (2.9e-4 against 1.6e-5 on 32x32)
      if (name.includes('F(4x4)')) {
        ok(winogradTile(g) === 4 && winogradTile(g, true) === 4 && winogradFilterTile(g) === 4, 'F(4x4, 3x3) forward and input gradient, F(3x3, 4x4) filter gradient');
      }
      const tolY = winogradTile(g) === 4 ? 10 * tol : tol;
      const tolGx = winogradTile(g, true) === 4 ? 10 * tol : tol;
      const y = new Float32Array(g.batch * g.outC * g.outH * g.outW);
      k.conv2dForward(x, w, bias, g, y);
      assertClose(y, naiveConv(x, w, bias, g), tolY, 'y');
      // Backward by the same loops as the definition (naiveConvBackward).
      const gy = rnd(y.length, 24);
      const gx = new Float32Array(x.length).fill(Number.NaN);
      k.conv2dBackwardInput(gy, w, g, gx);
      const gw = new Float32Array(w.length).fill(Number.NaN);
      const gb = new Float32Array(g.outC).fill(Number.NaN);
      k.conv2dBackwardFilter(x, gy, g, gw, gb);
      const { gx: wantGx, gw: wantGw } = naiveConvBackward(x, w, gy, g);
      assertClose(gx, wantGx, tolGx, 'gx');
      assertClose(gw, wantGw, winogradFilterTile(g) === 4 ? GW4_FACTOR * tol * 4 : tol * 4, 'gw');
      const hw = g.outH * g.outW;
      const wantGb = Array.from({ length: g.outC }, (_, o) => {
        let s = 0;
        for (let n = 0; n < g.batch; n++) for (let p = 0; p < hw; p++) s += gy[(n * g.outC + o) * hw + p];
        return s;
      });
      // gb sums batch x outH x outW values in float32: 1e-5 up to 1024 of them, then growing as their square root
      assertClose(gb, wantGb, 1e-5 * Math.max(1, Math.sqrt((g.batch * hw) / 1024)), 'gb');
    });
  }

  test('conv2d on 2 threads gives the same bits as on 1: forward, input and filter gradients (Winograd, im2col, direct)', async () => {
    // 19M, 8.8M, 15M and 7.5M multiply-adds: all split over 2 threads
    // 16x16 planes: F(4x4, 3x3) forward and input gradient; 10x8: F(2x2, 3x3) forward, F(4x4) input gradient
    const g16 = geometry(16, 16, 16, 16, 32, 3, 3, { p: [1, 1, 1, 1] }), g8 = geometry(24, 16, 12, 10, 32, 3, 3);
    ok(winogradTile(g16) === 4 && winogradTile(g16, true) === 4 && winogradTile(g8) === 2 && winogradTile(g8, true) === 4, 'Winograd tiles');
    // 16x16: F(3x3, 4x4) filter gradient, 8 chunks of 2 images; 10x8: F(3x3, 2x2)
    ok(winogradFilterTile(g16) === 4 && winogradFilterTile(g8) === 2, 'Winograd filter-gradient tiles');
    for (const g of [g16, g8, geometry(64, 6, 14, 14, 16, 5, 5), geometry(64, 1, 28, 28, 6, 5, 5, { p: [2, 2, 2, 2] })]) {
      const x = rnd(g.batch * g.inC * g.inH * g.inW, 31);
      const w = rnd(g.outC * g.inC * g.kH * g.kW, 32);
      const gy = rnd(g.batch * g.outC * g.outH * g.outW, 33);
      const run = () => {
        const y = new Float32Array(gy.length);
        const gx = new Float32Array(x.length);
        const gw = new Float32Array(w.length);
        const gb = new Float32Array(g.outC);
        k.conv2dForward(x, w, null, g, y);
        k.conv2dBackwardInput(gy, w, g, gx);
        k.conv2dBackwardFilter(x, gy, g, gw, gb);
        return { y, gx, gw, gb };
      };
      setThreads(1);
      const one = run();
      setThreads(2);
      await workersReady();
      ok(wasmRuntime()!.available() === 2, 'two threads');
      const split = wasmRuntime()!.stats.parallelJobs;
      const two = run();
      assert.equal(wasmRuntime()!.stats.parallelJobs, split + 3, `all three kernels ran on two threads (${g.inC} -> ${g.outC}, ${g.kH}x${g.kW})`);
      setThreads(null);
      assert.deepEqual(two.y, one.y);
      assert.deepEqual(two.gx, one.gx);
      // the filter gradient sums the same chunks of images in the same order on any number of threads
      assert.deepEqual(two.gw, one.gw);
      assert.deepEqual(two.gb, one.gb);
      const { gw: wantGw } = naiveConvBackward(x, w, gy, g);
      assertClose(two.gw, wantGw, 2e-5 * Math.sqrt(g.batch * g.outH * g.outW), 'gw vs the definition');
    }
  });

  function poolGeometry(planes: number, inH: number, inW: number, kH: number, kW: number, s: number, p: number, ceil = false): Pool2dGeometry {
    const size = (n: number, kk: number) => {
      const v = (n + 2 * p - kk) / s;
      let o = (ceil ? Math.ceil(v) : Math.floor(v)) + 1;
      if (ceil && (o - 1) * s >= n + p) o--;
      return o;
    };
    return { planes, inH, inW, kH, kW, strideH: s, strideW: s, padTop: p, padLeft: p, dilationH: 1, dilationW: 1, outH: size(inH, kH), outW: size(inW, kW) };
  }

  test('max pooling: values, first-winner argmax, NaN wins, and the scatter backward', () => {
    for (const g of [poolGeometry(3, 6, 8, 2, 2, 2, 0), poolGeometry(2, 7, 7, 3, 3, 2, 1), poolGeometry(2, 5, 5, 2, 2, 2, 0, true)]) {
      const x = rnd(g.planes * g.inH * g.inW, 41);
      x[5] = Number.NaN;
      x[g.inH * g.inW + 3] = x[g.inH * g.inW + 2]; // a tie inside a window
      const y = new Float32Array(g.planes * g.outH * g.outW);
      const am = new Int32Array(y.length);
      k.maxPool2dForward(x, g, y, am);
      for (let p = 0; p < g.planes; p++) {
        for (let i = 0; i < g.outH; i++) {
          for (let j = 0; j < g.outW; j++) {
            let best = -Infinity;
            let idx = -1;
            for (let u = 0; u < g.kH; u++) {
              for (let v = 0; v < g.kW; v++) {
                const ih = i * g.strideH - g.padTop + u;
                const iw = j * g.strideW - g.padLeft + v;
                if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) continue;
                const val = x[p * g.inH * g.inW + ih * g.inW + iw];
                if (Number.isNaN(best)) continue;
                if (idx < 0 || val > best || Number.isNaN(val)) {
                  best = val;
                  idx = ih * g.inW + iw;
                }
              }
            }
            const o = (p * g.outH + i) * g.outW + j;
            assert.equal(am[o], idx, `argmax at ${o}`);
            assert.equal(Object.is(y[o], Math.fround(best)) || y[o] === Math.fround(best), true, `max at ${o}: ${y[o]} vs ${best}`);
          }
        }
      }
      const gy = rnd(y.length, 42);
      const gx = new Float32Array(x.length).fill(7);
      k.maxPool2dBackward(gy, am, g, gx);
      const want = new Float64Array(x.length);
      for (let o = 0; o < y.length; o++) {
        const p = Math.floor(o / (g.outH * g.outW));
        if (am[o] >= 0) want[p * g.inH * g.inW + am[o]] += gy[o];
      }
      assertClose(gx, want, 1e-6, 'gx');
    }
  });

  test('max pooling 2x2: a worked example (ties, a NaN first in its window) and a tail of odd width', () => {
    const g = poolGeometry(1, 2, 8, 2, 2, 2, 0);
    const x = Float32Array.from([1, 5, Number.NaN, 2, 3, 3, -1, 0, 4, 2, 9, 9, 3, 8, -2, -1]);
    const y = new Float32Array(4);
    const am = new Int32Array(4);
    k.maxPool2dForward(x, g, y, am);
    // windows: {1 5 | 4 2} -> 5 at 1; {NaN 2 | 9 9} -> NaN at 2; {3 3 | 3 8} -> 8 at 13; {-1 0 | -2 -1} -> 0 at 7
    assert.deepEqual([...y].map((v) => (Number.isNaN(v) ? 'NaN' : v)), [5, 'NaN', 8, 0]);
    assert.deepEqual([...am], [1, 2, 13, 7]);
    const t = poolGeometry(2, 4, 10, 2, 2, 2, 0); // 5 windows a row: 4 in SIMD, 1 in the scalar tail
    const xt = Float32Array.from({ length: 80 }, (_, i) => (i * 37) % 23);
    const yt = new Float32Array(20);
    const at = new Int32Array(20);
    k.maxPool2dForward(xt, t, yt, at);
    for (let o = 0; o < 20; o++) {
      const p = Math.floor(o / 10);
      const i = Math.floor((o % 10) / 5);
      const j = o % 5;
      const cands = [[2 * i, 2 * j], [2 * i, 2 * j + 1], [2 * i + 1, 2 * j], [2 * i + 1, 2 * j + 1]].map(([r, c]) => r * 10 + c);
      let best = cands[0];
      for (const c of cands) if (xt[p * 40 + c] > xt[p * 40 + best]) best = c;
      assert.equal(at[o], best, `argmax ${o}`);
      assert.equal(yt[o], xt[p * 40 + best], `max ${o}`);
    }
  });

  test('max pooling 2x2 backward writes every input: uncovered odd rows and columns 0, -0 as +0, NaN kept, overlapping last steps', () => {
    const refK = refBackend.kernels;
    for (const [inH, inW] of [[7, 11], [8, 8], [9, 13], [6, 15], [5, 19]]) {
      const g = poolGeometry(3, inH, inW, 2, 2, 2, 0);
      const x = rnd(g.planes * inH * inW, inH * 100 + inW);
      const y = new Float32Array(g.planes * g.outH * g.outW);
      const am = new Int32Array(y.length);
      k.maxPool2dForward(x, g, y, am);
      const gy = rnd(y.length, inW);
      gy[0] = -0;
      gy[1] = Number.NaN;
      gy[y.length - 1] = -0;
      const gx = new Float32Array(x.length).fill(7); // stale values the kernel must overwrite
      k.maxPool2dBackward(gy, am, g, gx);
      const want = new Float32Array(x.length);
      refK.maxPool2dBackward(gy, am, g, want);
      for (let i = 0; i < x.length; i++) {
        if (!Object.is(gx[i], want[i])) assert.fail(`${inH}x${inW}: gx[${i}] = ${gx[i]}, ref ${want[i]}`);
      }
      const plane = inH * inW;
      assert.equal(Object.is(gx[am[0]], 0), true, `${inH}x${inW}: a -0 gradient must land as +0, got ${gx[am[0]]}`);
      assert.equal(Number.isNaN(gx[am[1]]), true, `${inH}x${inW}: a NaN gradient must reach its winner`);
      if (inW % 2 === 1) assert.equal(gx[inW - 1], 0, `${inH}x${inW}: the uncovered last column must be 0`);
      if (inH % 2 === 1) assert.equal(gx[plane - 1], 0, `${inH}x${inW}: the uncovered last row must be 0`);
    }
  });

  test('SGD step: momentum, dampening, Nesterov and weight decay in float32 SIMD match the reference over three steps', () => {
    const refK = refBackend.kernels;
    const n = 5003; // above the SIMD threshold, with a scalar tail
    const cases = [
      { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false },
      { lr: 0.02, momentum: 0.8, dampening: 0.3, weightDecay: 0.01, nesterov: false },
      { lr: 0.01, momentum: 0.9, dampening: 0, weightDecay: 0.05, nesterov: true },
    ];
    for (const c of cases) {
      const w1 = rnd(n, 7), w2 = w1.slice();
      const b1 = new Float32Array(n), b2 = new Float32Array(n);
      for (let step = 0; step < 3; step++) {
        const g = rnd(n, 100 + step);
        const p = { ...c, first: step === 0 };
        k.sgdStep(w1, g, b1, p);
        refK.sgdStep(w2, g, b2, p);
        assertClose(w1, w2, 1e-6, `w after step ${step + 1} of ${JSON.stringify(c)}`);
        assertClose(b1, b2, 1e-6, `momentum buffer after step ${step + 1} of ${JSON.stringify(c)}`);
      }
      // the update did something: a wrong kernel that skipped it would pass the comparisons only if ref did too
      ok(Math.abs(w1[0] - rnd(n, 7)[0]) > 1e-4, `w did not move under ${JSON.stringify(c)}`);
    }
  });

  test('average pooling with and without countIncludePad, forward and backward', () => {
    for (const cip of [true, false]) {
      const g = poolGeometry(2, 7, 6, 3, 3, 2, 1);
      const x = rnd(g.planes * g.inH * g.inW, 51);
      const y = new Float32Array(g.planes * g.outH * g.outW);
      k.avgPool2dForward(x, g, cip, y);
      const gy = rnd(y.length, 52);
      const gx = new Float32Array(x.length);
      k.avgPool2dBackward(gy, g, cip, gx);
      const wantY = new Float64Array(y.length);
      const wantGx = new Float64Array(x.length);
      for (let p = 0; p < g.planes; p++) {
        for (let i = 0; i < g.outH; i++) {
          for (let j = 0; j < g.outW; j++) {
            let s = 0;
            let inside = 0;
            let padded = 0;
            for (let u = 0; u < g.kH; u++) {
              for (let v = 0; v < g.kW; v++) {
                const ih = i * g.strideH - g.padTop + u;
                const iw = j * g.strideW - g.padLeft + v;
                if (ih < g.inH + g.padTop && iw < g.inW + g.padLeft) padded++;
                if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) continue;
                inside++;
                s += x[p * g.inH * g.inW + ih * g.inW + iw];
              }
            }
            const o = (p * g.outH + i) * g.outW + j;
            const div = cip ? padded : inside;
            wantY[o] = s / div;
            for (let u = 0; u < g.kH; u++) {
              for (let v = 0; v < g.kW; v++) {
                const ih = i * g.strideH - g.padTop + u;
                const iw = j * g.strideW - g.padLeft + v;
                if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) continue;
                wantGx[p * g.inH * g.inW + ih * g.inW + iw] += gy[o] / div;
              }
            }
          }
        }
      }
      assertClose(y, wantY, 1e-6, `y cip=${cip}`);
      assertClose(gx, wantGx, 1e-6, `gx cip=${cip}`);
    }
  });

  // spatial 7: the 4-wide loops and the tails; 61: the 8-wide loops too
  for (const g of [{ batch: 3, channels: 5, spatial: 7 }, { batch: 2, channels: 3, spatial: 61 }]) test(`batch norm: statistics, forward, and the training and eval gradients (spatial ${g.spatial})`, () => {
    const n = g.batch * g.channels * g.spatial;
    const x = rnd(n, 61);
    const gy = rnd(n, 62);
    const weight = rnd(g.channels, 63);
    const bias = rnd(g.channels, 64);
    const mean = new Float32Array(g.channels);
    const variance = new Float32Array(g.channels);
    k.batchNormStats(x, g, mean, variance);
    const m = g.batch * g.spatial;
    const at = (nn: number, c: number, s: number) => (nn * g.channels + c) * g.spatial + s;
    const invstd = new Float32Array(g.channels);
    for (let c = 0; c < g.channels; c++) {
      let s = 0;
      for (let nn = 0; nn < g.batch; nn++) for (let i = 0; i < g.spatial; i++) s += x[at(nn, c, i)];
      const mu = s / m;
      let v = 0;
      for (let nn = 0; nn < g.batch; nn++) for (let i = 0; i < g.spatial; i++) v += (x[at(nn, c, i)] - mu) ** 2;
      assertClose([mean[c], variance[c]], [mu, v / m], 1e-6, `stats of channel ${c}`);
      invstd[c] = 1 / Math.sqrt(variance[c] + 1e-5);
    }
    const y = new Float32Array(n);
    k.batchNorm2dForward(x, mean, invstd, weight, bias, g, y);
    const wantY = Array.from(y, (_, idx) => {
      const c = Math.floor(idx / g.spatial) % g.channels;
      return (x[idx] - mean[c]) * invstd[c] * weight[c] + bias[c];
    });
    assertClose(y, wantY, 1e-5, 'y');
    for (const training of [true, false]) {
      const gx = new Float32Array(n);
      const gw = new Float32Array(g.channels);
      const gb = new Float32Array(g.channels);
      k.batchNorm2dBackward(x, gy, mean, invstd, weight, g, training, gx, gw, gb);
      const wantGx = new Float64Array(n);
      for (let c = 0; c < g.channels; c++) {
        let sg = 0;
        let sgx = 0;
        for (let nn = 0; nn < g.batch; nn++) {
          for (let i = 0; i < g.spatial; i++) {
            sg += gy[at(nn, c, i)];
            sgx += gy[at(nn, c, i)] * (x[at(nn, c, i)] - mean[c]) * invstd[c];
          }
        }
        assertClose([gw[c], gb[c]], [sgx, sg], 1e-5, `gweight, gbias of channel ${c}`);
        for (let nn = 0; nn < g.batch; nn++) {
          for (let i = 0; i < g.spatial; i++) {
            const xhat = (x[at(nn, c, i)] - mean[c]) * invstd[c];
            wantGx[at(nn, c, i)] = training
              ? (weight[c] * invstd[c] / m) * (m * gy[at(nn, c, i)] - sg - xhat * sgx)
              : weight[c] * invstd[c] * gy[at(nn, c, i)];
          }
        }
      }
      assertClose(gx, wantGx, 1e-4, `gx training=${training}`);
    }
  });

  test('global average pooling: plane means and their gradient match the definition, on 1 and 2 threads alike', async () => {
    // 300 planes of 37 (8-wide loop and a tail of 5), and 160 planes of 1,024: enough to split over 2 threads
    for (const [planes, h, w] of [[300, 1, 37], [160, 32, 32]]) {
      const hw = h * w;
      const g = { planes, inH: h, inW: w, outH: 1, outW: 1 };
      const x = rnd(planes * hw, 75);
      x[3] = 1e30; // a large value: the f64 sum keeps the other values of its plane
      const gy = rnd(planes, 76);
      const run = () => {
        const y = new Float32Array(planes).fill(Number.NaN);
        const gx = new Float32Array(planes * hw).fill(Number.NaN);
        k.adaptiveAvgPool2dForward(x, g, y);
        k.adaptiveAvgPool2dBackward(gy, g, gx);
        return { y, gx };
      };
      setThreads(1);
      const one = run();
      const wantY = Array.from({ length: planes }, (_, p) => {
        let s = 0;
        for (let i = 0; i < hw; i++) s += x[p * hw + i];
        return s / hw;
      });
      assertClose(one.y, wantY, 1e-6, `means of ${planes} planes of ${hw}`);
      assertClose(one.gx, Array.from(one.gx, (_, i) => gy[Math.floor(i / hw)] / hw), 1e-7, 'gradient');
      setThreads(2);
      await workersReady();
      const split = wasmRuntime()!.stats.parallelJobs;
      const two = run();
      if (planes * hw >= 2 * 65536) assert.equal(wasmRuntime()!.stats.parallelJobs, split + 2, 'both ran on two threads');
      assert.deepEqual(two.y, one.y);
      assert.deepEqual(two.gx, one.gx);
    }
    setThreads(null);
  });

  test('element-wise kernels keep the reference semantics at NaN, -0 and the SIMD tails', () => {
    const x = Float32Array.from([-2, -0, 0, 0.5, Number.NaN, 3, -1e-30, 7, Infinity, -Infinity, 2.5]);
    const out = new Float32Array(x.length);
    k.unary('relu', x, out, {});
    assert.deepEqual([...out], [0, 0, 0, 0.5, 0, 3, 0, 7, Infinity, 0, 2.5]);
    k.unary('leakyRelu', x, out, { alpha: 0.5 });
    assert.deepEqual([...out].map((v) => (Number.isNaN(v) ? 'NaN' : v)), [-1, -0, 0, 0.5, 'NaN', 3, Math.fround(-5e-31), 7, Infinity, -Infinity, 2.5]);
    k.unary('clamp', x, out, { alpha: -1, beta: 2 });
    assert.deepEqual([...out].map((v) => (Number.isNaN(v) ? 'NaN' : v)), [-1, -0, 0, 0.5, 'NaN', 2, Math.fround(-1e-30), 2, 2, -1, 2]);
    k.unary('sign', x, out, {});
    assert.deepEqual([...out].map((v) => (Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : v)), [-1, '-0', 0, 1, 'NaN', 1, -1, 1, 1, -1, 1]);
    const gy = Float32Array.from(x, (_, i) => i + 1);
    k.unaryBackward('relu', x, out, gy, out, {});
    assert.deepEqual([...out], [0, 0, 0, 4, 0, 6, 0, 8, 9, 0, 11]);
    const a = Float32Array.from([1, Number.NaN, -0, 0, 5, 2, 3, -4, 9]);
    const b = Float32Array.from([2, 1, 0, -0, Number.NaN, 2, -3, 4, 1]);
    const o = new Float32Array(a.length);
    const s = [a.length];
    k.binary('maximum', a, s, b, s, o, s);
    assert.deepEqual([...o].map((v) => (Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : v)), [2, 'NaN', 0, '-0', 'NaN', 2, 3, 4, 9]);
    k.binary('ge', a, s, b, s, o, s);
    assert.deepEqual([...o], [0, 0, 1, 1, 0, 1, 1, 0, 1]);
    k.binary('div', a, s, Float32Array.of(2), [1], o, s);
    assert.deepEqual([...o].map((v) => (Number.isNaN(v) ? 'NaN' : v)), [0.5, 'NaN', -0, 0, 2.5, 1, 1.5, -2, 4.5]);
    k.binary('sub', Float32Array.of(10), [1], a, s, o, s);
    assert.deepEqual([...o].map((v) => (Number.isNaN(v) ? 'NaN' : v)), [9, 'NaN', 10, 10, 5, 8, 7, 14, 1]);
  });

  test('element-wise kernels equal the reference kernels bit for bit: every op, operand mode and loop tail', () => {
    const special = [Number.NaN, -0, 0, Infinity, -Infinity, 1e-40, -1e-40, 3e38, -2, 0.5, 1, -1];
    const values = (n: number, seed: number) => {
      const v = rnd(n, seed).map((t) => t * 4);
      for (let i = 0; i < n; i += 3) v[i] = special[(i / 3 + seed) % special.length];
      return v;
    };
    const same = (got: Float32Array, want: Float32Array, what: string) => {
      for (let i = 0; i < want.length; i++) {
        if (!(Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i])))) {
          assert.fail(`${what}: element ${i} is ${got[i]}, the reference gives ${want[i]}`);
        }
      }
    };
    const r = refBackend.kernels;
    // scalars a float32 can hold: the kernels take them as float32, the reference as they are
    const params = { alpha: -0.75, beta: 1.5 };
    const slope = { alpha: Math.fround(0.1) };
    // 8-wide steps, a 4..7 remainder, scalar tails of every length
    for (const n of [1, 3, 8, 13, 37, 100]) {
      const x = values(n, n);
      const y = values(n, n + 1);
      const gy = values(n, n + 2);
      for (const op of ['neg', 'abs', 'relu', 'leakyRelu', 'square', 'sqrt', 'reciprocal', 'clamp', 'sign'] as const) {
        const got = new Float32Array(n).fill(7);
        const want = new Float32Array(n);
        k.unary(op, x, got, op === 'leakyRelu' ? slope : params);
        r.unary(op, x, want, op === 'leakyRelu' ? slope : params);
        same(got, want, `${op} n=${n}`);
      }
      for (const op of ['neg', 'relu', 'leakyRelu', 'square', 'clamp', 'sign'] as const) {
        const got = new Float32Array(n).fill(7);
        const want = new Float32Array(n);
        k.unaryBackward(op, x, y, gy, got, op === 'leakyRelu' ? slope : params);
        r.unaryBackward(op, x, y, gy, want, op === 'leakyRelu' ? slope : params);
        same(got, want, `${op} backward n=${n}`);
      }
      const one = Float32Array.of(-1.25);
      for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) {
        for (const [a, b] of [[x, y], [x, one], [one, y], [x, x]] as const) {
          const got = new Float32Array(n).fill(7);
          const want = new Float32Array(n);
          k.binary(op, a, [a.length], b, [b.length], got, [n]);
          r.binary(op, a, [a.length], b, [b.length], want, [n]);
          same(got, want, `${op} of lengths ${a.length} and ${b.length}`);
        }
      }
    }
  });

  test('softmax and log-softmax rows sum to 1 and match the definition; reduce sums the middle axis', () => {
    const x = rnd(4 * 10, 71).map((v) => v * 30);
    const y = new Float32Array(x.length);
    k.softmax(x, 4, 10, 1, false, y);
    const lg = new Float32Array(x.length);
    k.softmax(x, 4, 10, 1, true, lg);
    for (let r = 0; r < 4; r++) {
      const row = Array.from(x.subarray(r * 10, r * 10 + 10));
      const m = Math.max(...row);
      const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
      assertClose(y.subarray(r * 10, r * 10 + 10), row.map((v) => Math.exp(v - m) / z), 1e-6, `softmax row ${r}`);
      assertClose(lg.subarray(r * 10, r * 10 + 10), row.map((v) => v - m - Math.log(z)), 1e-6, `logSoftmax row ${r}`);
    }
    const big = rnd(3 * 7 * 5, 72);
    const sums = new Float32Array(3 * 5);
    k.reduce('sum', big, 3, 7, 5, sums);
    const want = Array.from({ length: 15 }, (_, i) => {
      const o = Math.floor(i / 5);
      const j = i % 5;
      let s = 0;
      for (let t = 0; t < 7; t++) s += big[(o * 7 + t) * 5 + j];
      return s;
    });
    assertClose(sums, want, 1e-6, 'reduce inner 5');
    const row = new Float32Array(1);
    k.reduce('sum', big, 1, big.length, 1, row);
    assertClose(row, [big.reduce((s, v) => s + v, 0)], 1e-6, 'reduce all');
  });

  test('a call larger than the memory may grow to runs on the reference kernel, with the same result', () => {
    const compiled = compileSync(nodePlatform)!;
    const rt = new WasmRuntime(compiled, nodePlatform, 80); // 5 MiB: the arena starts at 128 KiB
    const kernels = wasmKernels(() => rt);
    const M = 300;
    const A = rnd(M * M, 91);
    const B = rnd(M * M, 92);
    const C = new Float32Array(M * M);
    kernels.gemm(false, false, M, M, M, 1, A, 0, B, 0, 0, C, 0); // needs 3 x 352 KiB + 2.1 MiB packing space: fits
    assertClose(C, naiveGemm(false, false, M, M, M, 1, A, 0, B, 0, 0, C, 0), 1e-5 * Math.sqrt(M), 'fits');
    const N = 700;
    const A2 = rnd(N * N, 93);
    const B2 = rnd(N * N, 94);
    const C2 = new Float32Array(N * N);
    assert.throws(() => rt.alloc(2 ** 21), (e: unknown) => e instanceof RangeError && /more than the 5 MiB the memory may grow to/.test((e as Error).message));
    kernels.gemm(false, true, N, N, 8, 1, A2, 0, B2, 0, 0, C2, 0); // 3 x 1.9 MiB: does not fit
    assertClose(C2, naiveGemm(false, true, N, N, 8, 1, A2, 0, B2, 0, 0, C2, 0), 1e-5, 'falls back');
    rt.dispose();
  });

  test('a call whose last output does not fit falls back after its first output was allocated, and writes every output', () => {
    const compiled = compileSync(nodePlatform)!;
    const rt = new WasmRuntime(compiled, nodePlatform, 80); // 5 MiB: x (3.6 MB) and y (0.9 MB) fit, argmax (0.9 MB) does not
    const kernels = wasmKernels(() => rt);
    const g: Pool2dGeometry = { planes: 900, inH: 40, inW: 25, kH: 2, kW: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: 20, outW: 12 };
    const x = rnd(g.planes * g.inH * g.inW, 97);
    const y = new Float32Array(g.planes * g.outH * g.outW).fill(NaN);
    const argmax = new Int32Array(y.length).fill(-7);
    rt.reset();
    rt.alloc(x.length + y.length); // x and y fit ...
    assert.throws(() => rt.alloc(argmax.length), (e: unknown) => e instanceof RangeError, '... argmax does not');
    kernels.maxPool2dForward(x, g, y, argmax);
    const yRef = new Float32Array(y.length);
    const argRef = new Int32Array(y.length);
    refBackend.kernels.maxPool2dForward(x, g, yRef, argRef);
    assert.deepEqual(y, yRef);
    assert.deepEqual(argmax, argRef);
    rt.dispose();
  });

  test('a worker that never claims its job holds nothing up: the caller takes the job back and runs it', { timeout: 20_000 }, () => {
    // a "worker" that says it is ready and then never looks at its mailbox (as one the OS does not schedule)
    const silent = {
      ...nodePlatform,
      startWorker: (init: WorkerInit) => {
        Atomics.store(new Int32Array(init.memory.buffer, init.ctrl, CTRL_INTS), READY + init.index, 1);
        return { terminate() {} };
      },
    };
    const rt = new WasmRuntime(compileSync(silent)!, silent);
    rt.setThreads(2);
    assert.equal(rt.available(), 2);
    const kernels = wasmKernels(() => rt);
    const x = rnd(300_000, 5).map((v) => v - 0.25);
    const want = new Float32Array(x.length);
    refBackend.kernels.unary('relu', x, want, {});
    // a chunked job: the caller takes every chunk, then the job back
    const out = new Float32Array(x.length).fill(Number.NaN);
    kernels.unary('relu', x, out, {});
    assert.deepEqual(out, want);
    assert.equal(rt.stats.parallelJobs, 1);
    assert.equal(rt.stats.takenBack, 1);
    // a job in fixed shares: the caller runs the worker's share too
    rt.reset();
    const xp = rt.put(x);
    const yp = rt.alloc(x.length);
    rt.run('unary', [[2, xp, yp, 0, 150_000, 0, 0], [2, xp, yp, 150_000, x.length, 0, 0]]);
    const shares = new Float32Array(x.length);
    rt.get(yp, shares);
    assert.deepEqual(shares, want);
    assert.equal(rt.stats.takenBack, 2);
    rt.dispose();
  });

  test('without shared memory the kernels run on one thread from a non-shared memory', () => {
    const plat = { ...nodePlatform, sharedMemory: () => false };
    const compiled = compileSync(plat)!;
    assert.equal(compiled.shared, false);
    const rt = new WasmRuntime(compiled, plat);
    ok(!(rt.memory.buffer instanceof SharedArrayBuffer), 'the memory is not shared');
    rt.setThreads(4);
    assert.equal(rt.threads, 1);
    const kernels = wasmKernels(() => rt);
    const A = rnd(9 * 11, 81);
    const B = rnd(11 * 13, 82);
    const C = new Float32Array(9 * 13);
    kernels.gemm(false, true, 9, 13, 11, 1, A, 0, B, 0, 0, C, 0);
    assertClose(C, naiveGemm(false, true, 9, 13, 11, 1, A, 0, B, 0, 0, C, 0), 1e-6, 'gemm');
    // the rewrite touches only the memory import's shared flag
    const bytes = Uint8Array.from(atob(RELAXED_WASM), (c) => c.charCodeAt(0));
    const patched = unshareMemoryImport(bytes);
    assert.equal(patched.length, bytes.length);
    const diff = [...bytes].flatMap((v, i) => (v !== patched[i] ? [[i, v, patched[i]]] : []));
    assert.equal(diff.length, 1);
    assert.deepEqual(diff[0].slice(1), [3, 1]);
  });
});
