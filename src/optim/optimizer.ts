import { ValueError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';

/** What optimizers accept: a list of tensors or anything with parameters() (a Module). */
export type ParamsLike = Iterable<Tensor> | { parameters(): Tensor[] };

/** The common part of every optimizer: the parameter list, the learning rate, zeroGrad. */
export abstract class Optimizer {
  readonly params: Tensor[];
  /** Learning rate; may be changed between steps (schedules). */
  lr: number;
  /** Steps taken so far. */
  stepCount = 0;

  constructor(where: string, params: ParamsLike, lr: number) {
    const list = params && typeof (params as any).parameters === 'function' ? (params as { parameters(): Tensor[] }).parameters() : [...(params as Iterable<Tensor>)];
    if (list.length === 0) throw new ValueError(`${where}: got an empty parameter list; pass model.parameters() or the model`);
    list.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new ValueError(`${where}: parameter ${i} is not a Tensor`);
      // Frozen parameters (requiresGrad false) are accepted and skipped while they have no gradient, as in PyTorch.
      if (!p.isLeaf) throw new ValueError(`${where}: parameter ${i} (shape [${p.shape.join(', ')}]) is not a leaf tensor (it was computed by ${p.gradFn!.name}); optimizers update leaves such as layer weights`);
    });
    if (typeof lr !== 'number' || !(lr >= 0) || !Number.isFinite(lr)) throw new ValueError(`${where}: lr must be a finite number >= 0, got ${lr}`);
    this.params = list;
    this.lr = lr;
  }

  /** Clears the gradients (sets .grad to null, as PyTorch's default set_to_none). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** Applies one update from the current gradients; parameters with no gradient are skipped. */
  step(): void {
    this.stepCount++;
    this.params.forEach((p, i) => {
      if (p.grad) this.update(p, p.grad.data, i);
    });
  }

  /** Updates one parameter in place given its gradient. */
  protected abstract update(p: Tensor, grad: ArrayLike<number>, index: number): void;
}

export function checkRange(where: string, name: string, value: number, lo: number, hi: number, hiOpen = false): number {
  if (typeof value !== 'number' || !(value >= lo) || (hiOpen ? !(value < hi) : !(value <= hi))) {
    throw new ValueError(`${where}: ${name} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${value}`);
  }
  return value;
}
