/**
 * The ONNX files of the inference workloads, as bench/peers/export_onnx.py
 * writes them into bench/.cache/ (exported from the PyTorch nets of
 * bench/peers/pytorch.py): one per workload, `<stem>-b<batch>.onnx`, with the
 * input `x` of [batch, ...image] and the output `y`. onnxruntime-node
 * (onnx.mjs) and onnxruntime-web in the browser benchmark (bench/browser/)
 * run the same files.
 */
const IMAGES = {
  'lenet5-infer': { stem: 'lenet5', image: [1, 28, 28] },
  'resnet-block-infer': { stem: 'resnet-block', image: [3, 32, 32] },
  'conv-fwd': { stem: 'conv', image: [64, 32, 32] },
  'resnet18-infer': { stem: 'resnet18', image: [3, 224, 224] },
  'vgg16-infer': { stem: 'vgg16', image: [3, 224, 224] },
  'alexnet-infer': { stem: 'alexnet', image: [3, 224, 224] },
};

/** { workload: { file, shape } } for the workloads of `workloads` (bench/workloads.json) that have a model. */
export function onnxModels(workloads) {
  return Object.fromEntries(Object.entries(IMAGES).filter(([w]) => w in workloads).map(([w, { stem, image }]) => {
    const { batch } = workloads[w];
    return [w, { file: `${stem}-b${batch}.onnx`, shape: [batch, ...image] }];
  }));
}
