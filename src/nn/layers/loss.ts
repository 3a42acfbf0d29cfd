/**
 * Loss layers, as torch.nn's: the options are fixed at construction and
 * `forward(input, target)` returns the loss. Per-class `weight` and `posWeight` are buffers, as in
 * PyTorch: saved in the state dict, never trained.
 */
import { ValueError } from '../../errors.js';
import {
  binaryCrossEntropy, binaryCrossEntropyWithLogits, type BinaryCrossEntropyOptions, type BinaryCrossEntropyWithLogitsOptions,
} from '../../ops/binary-cross-entropy.js';
import {
  IGNORE_INDEX, checkIgnoreIndex, checkLabelSmoothing, crossEntropy, nllLoss, type CrossEntropyOptions, type NllLossOptions,
} from '../../ops/cross-entropy.js';
import { checkReduction, type Reduction } from '../../ops/loss-reduction.js';
import {
  checkHuberDelta, checkSmoothL1Beta, huberLoss, l1Loss, mseLoss, smoothL1Loss, type HuberLossOptions, type SmoothL1LossOptions,
} from '../../ops/regression-losses.js';
import { checkOptions } from '../../validate.js';
import { Tensor, tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';

/** The reduction option, checked at construction with the functional form's rule. */
function reductionOf(where: string, reduction: unknown): Reduction {
  return checkReduction(where, reduction ?? 'mean');
}

/** A class-weight option as a tensor (arrays are converted), or undefined. */
function weightTensor(where: string, name: string, w: Tensor | ArrayLike<number> | undefined): Tensor | undefined {
  if (w === undefined || w === null) return undefined;
  if (w instanceof Tensor) return w;
  if (typeof w !== 'object' || typeof (w as ArrayLike<number>).length !== 'number') throw new ValueError(`${where}: ${name} must be a Tensor or an array of numbers`);
  return tensor(Array.from(w as ArrayLike<number>));
}

abstract class LossModule extends Module {
  abstract readonly reduction: Reduction;
  abstract override forward(input: Tensor, target: Tensor | ArrayLike<number>): Tensor;

  /** The reduction as extraRepr shows it: nothing for the default 'mean'. */
  protected reductionRepr(): string {
    return this.reduction === 'mean' ? '' : `reduction='${this.reduction}'`;
  }

  override extraRepr(): string {
    return this.reductionRepr();
  }
}

/** torch.nn.CrossEntropyLoss: logits [N, C] or [N, C, d1, ...] and class indices [N] or [N, d1, ...]. */
export class CrossEntropyLoss extends LossModule {
  readonly reduction: Reduction;
  readonly labelSmoothing: number;
  readonly ignoreIndex: number;
  weight?: Tensor;

  constructor(options: CrossEntropyOptions = {}) {
    super();
    checkOptions('CrossEntropyLoss', options, ['reduction', 'labelSmoothing', 'weight', 'ignoreIndex']);
    this.reduction = reductionOf('CrossEntropyLoss', options.reduction);
    this.labelSmoothing = checkLabelSmoothing('CrossEntropyLoss', options.labelSmoothing ?? 0);
    this.ignoreIndex = checkIgnoreIndex('CrossEntropyLoss', options.ignoreIndex ?? IGNORE_INDEX);
    const w = weightTensor('CrossEntropyLoss', 'weight', options.weight);
    if (w) this.registerBuffer('weight', w);
  }

  forward(input: Tensor, target: Tensor | ArrayLike<number>): Tensor {
    return crossEntropy(input, target, { reduction: this.reduction, labelSmoothing: this.labelSmoothing, ignoreIndex: this.ignoreIndex, weight: this.weight });
  }

  override extraRepr(): string {
    const parts: string[] = [];
    if (this.weight) parts.push('weight');
    if (this.ignoreIndex !== IGNORE_INDEX) parts.push(`ignoreIndex=${this.ignoreIndex}`);
    if (this.labelSmoothing !== 0) parts.push(`labelSmoothing=${this.labelSmoothing}`);
    if (this.reduction !== 'mean') parts.push(this.reductionRepr());
    return parts.join(', ');
  }
}

/** torch.nn.NLLLoss: log-probabilities (e.g. from LogSoftmax(1)) and class indices. */
export class NLLLoss extends LossModule {
  readonly reduction: Reduction;
  readonly ignoreIndex: number;
  weight?: Tensor;

  constructor(options: NllLossOptions = {}) {
    super();
    checkOptions('NLLLoss', options, ['reduction', 'weight', 'ignoreIndex']);
    this.reduction = reductionOf('NLLLoss', options.reduction);
    this.ignoreIndex = checkIgnoreIndex('NLLLoss', options.ignoreIndex ?? IGNORE_INDEX);
    const w = weightTensor('NLLLoss', 'weight', options.weight);
    if (w) this.registerBuffer('weight', w);
  }

  forward(input: Tensor, target: Tensor | ArrayLike<number>): Tensor {
    return nllLoss(input, target, { reduction: this.reduction, ignoreIndex: this.ignoreIndex, weight: this.weight });
  }
}

/** The element-wise losses take a target tensor of the input's shape. */
function targetTensor(where: string, target: Tensor | ArrayLike<number>): Tensor {
  if (!(target instanceof Tensor)) throw new ValueError(`${where}: target must be a Tensor shaped like the input`);
  return target;
}

/** torch.nn.BCELoss: probabilities in [0, 1] and targets of the same shape. */
export class BCELoss extends LossModule {
  readonly reduction: Reduction;
  weight?: Tensor;

  constructor(options: BinaryCrossEntropyOptions = {}) {
    super();
    checkOptions('BCELoss', options, ['reduction', 'weight']);
    this.reduction = reductionOf('BCELoss', options.reduction);
    const w = weightTensor('BCELoss', 'weight', options.weight);
    if (w) this.registerBuffer('weight', w);
  }

  forward(input: Tensor, target: Tensor | ArrayLike<number>): Tensor {
    return binaryCrossEntropy(input, targetTensor('BCELoss', target), { reduction: this.reduction, weight: this.weight });
  }
}

/** torch.nn.BCEWithLogitsLoss: raw scores and targets of the same shape (sigmoid and BCE fused, stable). */
export class BCEWithLogitsLoss extends LossModule {
  readonly reduction: Reduction;
  weight?: Tensor;
  posWeight?: Tensor;

  constructor(options: BinaryCrossEntropyWithLogitsOptions = {}) {
    super();
    checkOptions('BCEWithLogitsLoss', options, ['reduction', 'weight', 'posWeight']);
    this.reduction = reductionOf('BCEWithLogitsLoss', options.reduction);
    const w = weightTensor('BCEWithLogitsLoss', 'weight', options.weight);
    if (w) this.registerBuffer('weight', w);
    const pw = weightTensor('BCEWithLogitsLoss', 'posWeight', options.posWeight);
    if (pw) this.registerBuffer('posWeight', pw);
  }

  forward(input: Tensor, target: Tensor | ArrayLike<number>): Tensor {
    return binaryCrossEntropyWithLogits(input, targetTensor('BCEWithLogitsLoss', target), { reduction: this.reduction, weight: this.weight, posWeight: this.posWeight });
  }
}

/** torch.nn.MSELoss. */
export class MSELoss extends LossModule {
  readonly reduction: Reduction;

  constructor(options: { reduction?: Reduction } = {}) {
    super();
    checkOptions('MSELoss', options, ['reduction']);
    this.reduction = reductionOf('MSELoss', options.reduction);
  }

  forward(input: Tensor, target: Tensor | ArrayLike<number>): Tensor {
    return mseLoss(input, targetTensor('MSELoss', target), { reduction: this.reduction });
  }
}

/** torch.nn.L1Loss. */
export class L1Loss extends LossModule {
  readonly reduction: Reduction;

  constructor(options: { reduction?: Reduction } = {}) {
    super();
    checkOptions('L1Loss', options, ['reduction']);
    this.reduction = reductionOf('L1Loss', options.reduction);
  }

  forward(input: Tensor, target: Tensor | ArrayLike<number>): Tensor {
    return l1Loss(input, targetTensor('L1Loss', target), { reduction: this.reduction });
  }
}

/** torch.nn.SmoothL1Loss (beta, default 1). */
export class SmoothL1Loss extends LossModule {
  readonly reduction: Reduction;
  readonly beta: number;

  constructor(options: SmoothL1LossOptions = {}) {
    super();
    checkOptions('SmoothL1Loss', options, ['reduction', 'beta']);
    this.reduction = reductionOf('SmoothL1Loss', options.reduction);
    this.beta = checkSmoothL1Beta('SmoothL1Loss', options.beta ?? 1);
  }

  forward(input: Tensor, target: Tensor | ArrayLike<number>): Tensor {
    return smoothL1Loss(input, targetTensor('SmoothL1Loss', target), { reduction: this.reduction, beta: this.beta });
  }

  override extraRepr(): string {
    return [`beta=${this.beta}`, this.reductionRepr()].filter(Boolean).join(', ');
  }
}

/** torch.nn.HuberLoss (delta, default 1). */
export class HuberLoss extends LossModule {
  readonly reduction: Reduction;
  readonly delta: number;

  constructor(options: HuberLossOptions = {}) {
    super();
    checkOptions('HuberLoss', options, ['reduction', 'delta']);
    this.reduction = reductionOf('HuberLoss', options.reduction);
    this.delta = checkHuberDelta('HuberLoss', options.delta ?? 1);
  }

  forward(input: Tensor, target: Tensor | ArrayLike<number>): Tensor {
    return huberLoss(input, targetTensor('HuberLoss', target), { reduction: this.reduction, delta: this.delta });
  }

  override extraRepr(): string {
    return [`delta=${this.delta}`, this.reductionRepr()].filter(Boolean).join(', ');
  }
}
