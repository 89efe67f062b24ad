#!/usr/bin/env bash
# A >= 50k-image dataset root for the GPU benchmark without network access:
# Fashion-MNIST's 60k training images (real photographs of clothing, 28 px
# grey; the IDX files of Debian's dataset-fashion-mnist, which can be carried
# to a machine that lacks them) imported into WebDataset shards. The trainers
# scale them to --image-size and expand them to RGB (--channels 3).
#
# usage: bench/gpu/make_dataset.sh BUILD_DIR OUT_ROOT [IDX_DIR]
set -euo pipefail
BUILD=${1:?usage: make_dataset.sh BUILD_DIR OUT_ROOT [IDX_DIR]}
OUT=${2:?usage: make_dataset.sh BUILD_DIR OUT_ROOT [IDX_DIR]}
FM=${3:-/usr/share/datasets/fashion-mnist}
"$BUILD/bin/atelier-trainer" import idx --images "$FM/train-images-idx3-ubyte.gz" \
  --labels "$FM/train-labels-idx1-ubyte.gz" --head item --key-prefix train --data "$OUT" \
  --class-names "T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot"
