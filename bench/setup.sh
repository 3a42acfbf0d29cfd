#!/usr/bin/env bash
# Installs the peers that `npm run bench` (bench/run.mjs) measures Stride against.
# Never needed by `npm ci` or `npm test` of the project (docs/design.md, "Peers are measured, never depended on").
#
#   bash bench/setup.sh
#
# - npm packages (bench/package.json: TensorFlow.js + its wasm backend,
#   onnxruntime-node, onnxruntime-web, ConvNetJS) into bench/node_modules with
#   --ignore-scripts: onnxruntime-node's install script only fetches
#   CUDA/TensorRT files from outside; its CPU library ships in the package
#   (checked below), as do tfjs-backend-wasm's and onnxruntime-web's .wasm
#   files (loaded from bench/node_modules, or served with the browser
#   benchmark's page, bench/browser/).
# - PyTorch from Debian (python3-torch, run by /usr/bin/python3) when it is
#   missing and apt-get can be used; otherwise the PyTorch column is skipped.
# - The ONNX models for onnxruntime-node (and, the small ones, for
#   onnxruntime-web in the browser benchmark), exported from the PyTorch nets
#   (bench/peers/export_onnx.py) into bench/.cache/: torchvision's ResNet-18,
#   VGG-16 and AlexNet among them (randomly initialized; about 850 MB).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${STRIDE_BENCH_PYTHON:-/usr/bin/python3}"

echo "== npm peers (npm install --ignore-scripts in bench/)"
npm install --ignore-scripts --no-audit --no-fund

echo "== PyTorch"
if "$PYTHON" -c 'import torch' 2>/dev/null; then
  echo "found: $("$PYTHON" -c 'import torch; print("PyTorch", torch.__version__)')"
elif command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
  fi
  if [ "$SUDO" = none ]; then
    echo "skipped: PyTorch is missing and apt-get needs root; run: sudo apt-get install -y python3-torch"
  else
    $SUDO apt-get update
    $SUDO apt-get install -y python3-torch || echo "skipped: apt-get could not install python3-torch"
  fi
else
  echo "skipped: PyTorch is missing and there is no apt-get (the PyTorch column will be empty)"
fi

echo "== ONNX models for onnxruntime-node"
if "$PYTHON" -c 'import torch' 2>/dev/null; then
  OPENBLAS_NUM_THREADS=1 "$PYTHON" peers/export_onnx.py .cache
  node peers/onnx.mjs --check || echo "onnxruntime-node does not run here; its column will say so"
else
  echo "skipped: the models are exported from PyTorch (onnxruntime-node's column will be empty)"
fi

echo "== done: npm run bench"
