/**
 * The loop every wasm worker runs (isomorphic; worker-node.ts and
 * worker-browser.ts only deliver the WorkerInit). It instantiates the kernels
 * on the shared memory, says it is ready, then serves jobs from its mailbox
 * until told to exit (see control.ts for the protocol).
 */
import {
  CHUNK_AT, CTRL_ADDR, CTRL_INTS, ERROR, JOB_NAMES, MAILBOX, PENDING, READY, runChunks, SLEEPING, SLOT_F64, SLOTS_ADDR, WORKER_SPIN_MS,
} from './control.js';
import type { WorkerInit } from './platform.js';

export function runWorker(init: WorkerInit): void {
  const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
  const exports = instance.exports as Record<string, (...args: number[]) => void>;
  const fns = JOB_NAMES.map((n) => exports[n]);
  const w = init.index;
  const ctrl = new Int32Array(init.memory.buffer, init.ctrl ?? CTRL_ADDR, CTRL_INTS);
  const slot = new Float64Array(init.memory.buffer, SLOTS_ADDR + w * SLOT_F64 * 8, SLOT_F64);
  const box = MAILBOX + w;
  Atomics.store(ctrl, READY + w, 1);
  for (;;) {
    let m: number;
    let until = performance.now() + WORKER_SPIN_MS;
    let polls = 0;
    while ((m = Atomics.load(ctrl, box)) === 0) {
      if ((++polls & 63) === 0 && performance.now() > until) {
        // block until a job arrives, or the caller's wake() says one is coming
        Atomics.store(ctrl, SLEEPING + w, 1);
        Atomics.wait(ctrl, box, 0);
        Atomics.store(ctrl, SLEEPING + w, 0);
        until = performance.now() + WORKER_SPIN_MS;
      }
    }
    if (m === 2) return;
    // claim the job; the caller may have taken it back (runtime.ts, run) if this thread was late
    if (Atomics.compareExchange(ctrl, box, 1, 0) !== 1) continue;
    try {
      const argc = slot[1];
      const args: number[] = [];
      for (let i = 0; i < argc; i++) args.push(slot[2 + i]);
      if (slot[CHUNK_AT] === 1) {
        const plan = { rangeAt: slot[CHUNK_AT + 1], items: slot[CHUNK_AT + 2], chunk: slot[CHUNK_AT + 3], outAt: slot[CHUNK_AT + 4], outStride: slot[CHUNK_AT + 5] };
        runChunks(fns[slot[0]], args, plan, ctrl);
      } else {
        fns[slot[0]](...args);
      }
    } catch {
      Atomics.store(ctrl, ERROR, 1);
    }
    if (Atomics.sub(ctrl, PENDING, 1) === 1) Atomics.notify(ctrl, PENDING);
  }
}
