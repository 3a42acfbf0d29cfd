import * as ort from 'onnxruntime-web';
import { createModel, Generator, Tensor, noGrad } from './src/index-node.ts';
import { exportOnnx } from './src/io/onnx/export.ts';
ort.env.wasm.numThreads = 1;
const list = JSON.parse(process.argv[2]);
for (const [name, shape] of list) {
  try {
    const model = createModel(name, { generator: new Generator(1), inputShape: [...shape] });
    const bytes = exportOnnx(model, { inputShape: [...shape] });
    const x = new Tensor(new Float32Array(3 * shape.reduce((a, b) => a * b, 1)), [3, ...shape]);
    new Generator(5).fillUniform(x.data, -1, 1);
    model.eval();
    const y = noGrad(() => model.forward(x));
    const s = await ort.InferenceSession.create(bytes);
    const r = await s.run({ input: new ort.Tensor('float32', x.data as Float32Array, x.shape) });
    const o = r[s.outputNames[0]].data as Float32Array;
    let maxErr = 0, maxAbs = 0;
    for (let i = 0; i < o.length; i++) { maxErr = Math.max(maxErr, Math.abs(o[i] - y.data[i])); maxAbs = Math.max(maxAbs, Math.abs(y.data[i])); }
    console.log(name, bytes.length, 'bytes', 'max abs err', maxErr.toExponential(2), 'max |y|', maxAbs.toFixed(3), r[s.outputNames[0]].dims);
  } catch (e) { console.log(name, 'FAILED', (e as Error).message.slice(0, 300)); }
}
