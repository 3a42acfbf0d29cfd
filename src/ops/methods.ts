/**
 * Method forms of the ops (x.add(y), x.relu(), loss.backward()...), installed on
 * Tensor.prototype here so that tensor.ts stays free of imports from ops/ and
 * autograd/ (imports go one way). Importing the package's index installs them.
 */
import { backward } from '../autograd/backward.js';
import { Tensor } from '../tensor/tensor.js';
import * as B from './binary.js';
import { conv2d, type Conv2dOptions } from './conv2d.js';
import { linear } from './linear.js';
import { matmul } from './matmul.js';
import * as R from './reduce.js';
import * as I from './indexing.js';
import * as S from './shape.js';
import { logSoftmax, softmax } from './softmax.js';
import * as U from './unary.js';

type Dims = number | readonly number[] | undefined;

declare module '../tensor/tensor.js' {
  interface Tensor {
    backward(gradient?: Tensor): void;
    add(other: TensorLike): Tensor;
    sub(other: TensorLike): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    pow(exponent: TensorLike): Tensor;
    maximum(other: TensorLike): Tensor;
    minimum(other: TensorLike): Tensor;
    eq(other: TensorLike): Tensor;
    ne(other: TensorLike): Tensor;
    lt(other: TensorLike): Tensor;
    le(other: TensorLike): Tensor;
    gt(other: TensorLike): Tensor;
    ge(other: TensorLike): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    abs(): Tensor;
    square(): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    relu(): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    sum(dim?: Dims, options?: R.ReduceOptions): Tensor;
    mean(dim?: Dims, options?: R.ReduceOptions): Tensor;
    max(dim?: Dims, options?: R.ReduceOptions): Tensor;
    min(dim?: Dims, options?: R.ReduceOptions): Tensor;
    argmax(dim?: number, options?: R.ReduceOptions): Tensor;
    argmin(dim?: number, options?: R.ReduceOptions): Tensor;
    variance(dim?: Dims, options?: R.VarianceOptions): Tensor;
    reshape(shape: readonly number[]): Tensor;
    view(shape: readonly number[]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    squeeze(dim?: number): Tensor;
    unsqueeze(dim: number): Tensor;
    permute(perm: readonly number[]): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor;
    slice(dim: number, start?: number, end?: number, step?: number): Tensor;
    matmul(other: Tensor): Tensor;
    softmax(dim?: number): Tensor;
    logSoftmax(dim?: number): Tensor;
    conv2d(weight: Tensor, bias?: Tensor | null, options?: Conv2dOptions): Tensor;
    linear(weight: Tensor, bias?: Tensor | null): Tensor;
    clone(): Tensor;
    /** PyTorch's x.where(condition, other): x where condition is non-zero, other elsewhere. */
    where(condition: Tensor, other: TensorLike): Tensor;
    gather(dim: number, index: Tensor): Tensor;
    indexSelect(dim: number, indices: Tensor | ArrayLike<number>): Tensor;
    expand(shape: readonly number[]): Tensor;
    expandAs(other: Tensor): Tensor;
    broadcastTo(shape: readonly number[]): Tensor;
    maxWithIndices(dim: number, options?: I.WithIndicesOptions): I.ValuesAndIndices;
    minWithIndices(dim: number, options?: I.WithIndicesOptions): I.ValuesAndIndices;
    topk(k: number, dim?: number, options?: I.TopkOptions): I.ValuesAndIndices;
  }
}

const P = Tensor.prototype;
P.backward = function (gradient?: Tensor) { backward(this, gradient); };
P.add = function (o) { return B.add(this, o); };
P.sub = function (o) { return B.sub(this, o); };
P.mul = function (o) { return B.mul(this, o); };
P.div = function (o) { return B.div(this, o); };
P.pow = function (e) { return typeof e === 'number' ? U.powScalar(this, e) : B.pow(this, e); };
P.maximum = function (o) { return B.maximum(this, o); };
P.minimum = function (o) { return B.minimum(this, o); };
P.eq = function (o) { return B.eq(this, o); };
P.ne = function (o) { return B.ne(this, o); };
P.lt = function (o) { return B.lt(this, o); };
P.le = function (o) { return B.le(this, o); };
P.gt = function (o) { return B.gt(this, o); };
P.ge = function (o) { return B.ge(this, o); };
P.neg = function () { return U.neg(this); };
P.exp = function () { return U.exp(this); };
P.log = function () { return U.log(this); };
P.sqrt = function () { return U.sqrt(this); };
P.abs = function () { return U.abs(this); };
P.square = function () { return U.square(this); };
P.clamp = function (min, max) { return U.clamp(this, min, max); };
P.relu = function () { return U.relu(this); };
P.sigmoid = function () { return U.sigmoid(this); };
P.tanh = function () { return U.tanh(this); };
P.sum = function (dim, options) { return R.sum(this, dim, options); };
P.mean = function (dim, options) { return R.mean(this, dim, options); };
P.max = function (dim, options) { return R.max(this, dim, options); };
P.min = function (dim, options) { return R.min(this, dim, options); };
P.argmax = function (dim, options) { return R.argmax(this, dim, options); };
P.argmin = function (dim, options) { return R.argmin(this, dim, options); };
P.variance = function (dim, options) { return R.variance(this, dim, options); };
P.reshape = function (shape) { return S.reshape(this, shape); };
P.view = function (shape) { return S.reshape(this, shape); };
P.flatten = function (startDim, endDim) { return S.flatten(this, startDim, endDim); };
P.squeeze = function (dim) { return S.squeeze(this, dim); };
P.unsqueeze = function (dim) { return S.unsqueeze(this, dim); };
P.permute = function (perm) { return S.permute(this, perm); };
P.transpose = function (d0, d1) { return S.transpose(this, d0, d1); };
P.slice = function (dim, start, end, step) { return S.slice(this, dim, start, end, step); };
P.matmul = function (o) { return matmul(this, o); };
P.softmax = function (dim) { return softmax(this, dim); };
P.logSoftmax = function (dim) { return logSoftmax(this, dim); };
P.conv2d = function (w, b, options) { return conv2d(this, w, b, options); };
P.linear = function (w, b) { return linear(this, w, b); };
P.clone = function () { return I.clone(this); };
P.where = function (condition, other) { return I.where(condition, this, other); };
P.gather = function (dim, index) { return I.gather(this, dim, index); };
P.indexSelect = function (dim, indices) { return I.indexSelect(this, dim, indices); };
P.expand = function (shape) { return I.expand(this, shape); };
P.expandAs = function (other) { return I.expand(this, other.shape); };
P.broadcastTo = function (shape) { return I.broadcastTo(this, shape); };
P.maxWithIndices = function (dim, options) { return I.maxWithIndices(this, dim, options); };
P.minWithIndices = function (dim, options) { return I.minWithIndices(this, dim, options); };
P.topk = function (k, dim, options) { return I.topk(this, k, dim, options); };
