export { Module } from './module.js';
export { Conv2d, type Conv2dLayerOptions } from './layers/conv2d.js';
export { Linear } from './layers/linear.js';
export { MaxPool2d, AvgPool2d } from './layers/pool.js';
export { ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax } from './layers/activation.js';
export { Flatten } from './layers/flatten.js';
export { Dropout } from './layers/dropout.js';
export { Sequential } from './layers/sequential.js';
export * as init from './init.js';
