#!/usr/bin/python3
"""Trains the embedded default model: a torchvision DenseNet on Fashion-MNIST.

Data: Debian's `dataset-fashion-mnist` (gzip IDX files under /usr/share/datasets/fashion-mnist/).
Model: torchvision.models.DenseNet(growth_rate=12, block_config=(6, 12, 12), num_init_features=32,
num_classes=10) with a 1-channel conv0 (torchvision's state_dict names kept). The standard 7x7/2 stem
and 3x3/2 max pool need more than 28x28, so the model's preprocessing upsamples: the 28x28 greyscale
image goes through torchvision's eval transform Resize(48) (Pillow bilinear), CenterCrop(48),
ToTensor(), Normalize(mean, std) -- exactly what `densenet classify` does from the model's metadata.
Training: SGD (Nesterov momentum 0.9, weight decay 5e-4), one-cycle learning rate, batch 128, random
horizontal flips and shifts of up to 4 pixels, fixed seeds, 10 epochs (about an hour on one core).

Writes (paths relative to the repository):
  models/fashion-mnist-densenet.safetensors  weights, labels and preprocessing in __metadata__
  models/samples/<i>-<label>.png              12 test-set images (28x28 greyscale PNG)
  test/fixtures/fashion/t10k-logits.npy       PyTorch's float32 logits for all 10,000 test images
  test/fixtures/fashion/slice-*-ubyte.gz      the first 500 test images and labels (gzip IDX, as the data set)
  test/fixtures/fashion/training.json         accuracy, epochs, time, seeds

Usage: /usr/bin/python3 scripts/train_fashion_mnist.py [--epochs 10] [--threads 1] [--out .]
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torchvision import transforms as T

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_safetensors import save_safetensors  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
SIZE = 48
ARCH = dict(growth_rate=12, block_config=(6, 12, 12), num_init_features=32, bn_size=4)


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    assert magic in (0x801, 0x803), f"{name}: bad IDX magic {magic:#x}"
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def write_idx(path, array):
    """The gzip IDX format of the data set itself (unsigned bytes), mtime 0 so the bytes are reproducible."""
    head = struct.pack(">I", 0x800 + array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(head + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def make_model():
    model = torchvision.models.DenseNet(num_classes=10, **ARCH)
    model.features.conv0 = torch.nn.Conv2d(1, ARCH["num_init_features"], kernel_size=7, stride=2, padding=3, bias=False)
    torch.nn.init.kaiming_normal_(model.features.conv0.weight)
    return model


def resized(images):
    """uint8 (N, 28, 28) -> float32 (N, 1, SIZE, SIZE) in [0, 1], through torchvision's PIL path."""
    tf = T.Compose([T.Resize(SIZE), T.CenterCrop(SIZE), T.ToTensor()])
    return torch.stack([tf(Image.fromarray(a, mode="L")) for a in images])


def augment(x, gen, background):
    """Random horizontal flip and a random shift of up to 4 pixels (filled with the background)."""
    n = x.shape[0]
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = F.pad(x, (4, 4, 4, 4), value=background)
    dy = torch.randint(0, 9, (n,), generator=gen)
    dx = torch.randint(0, 9, (n,), generator=gen)
    return torch.stack([padded[i, :, dy[i]:dy[i] + SIZE, dx[i]:dx[i] + SIZE] for i in range(n)])


def logits_of(model, x, batch=500):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: on a busy 2-core machine, OpenMP's spinning makes 2 slower)")
    ap.add_argument("--out", default=".")
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images only (smoke test)")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(1)
    t_start = time.time()

    train_x = read_idx("train-images-idx3-ubyte.gz")
    train_y = torch.from_numpy(read_idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    if args.limit:
        train_x, train_y = train_x[:args.limit], train_y[:args.limit]
    test_u8 = read_idx("t10k-images-idx3-ubyte.gz")
    test_y = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))
    xtr = resized(train_x)
    mean = round(float(xtr.mean()), 4)
    std = round(float(xtr.std()), 4)
    norm = T.Normalize([mean], [std])
    xtr = norm(xtr)
    xte = norm(resized(test_u8))
    background = (0.0 - mean) / std
    print(f"data ready in {time.time() - t_start:.0f} s: mean {mean}, std {std}", flush=True)

    model = make_model()
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}],
                          lr=0.1, momentum=0.9, nesterov=True)
    batch = 128
    steps = (len(xtr) + batch - 1) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=args.epochs, steps_per_epoch=steps)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(xtr), generator=gen)
        total, t0 = 0.0, time.time()
        for s in range(steps):
            idx = order[s * batch:(s + 1) * batch]
            x = augment(xtr[idx], gen, background)
            loss = F.cross_entropy(model(x), train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        acc = (logits_of(model, xte).argmax(1) == test_y).float().mean().item()
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total / len(xtr):.4f}, test accuracy {acc:.4f}, "
              f"{time.time() - t0:.0f} s", flush=True)

    model.eval()
    logits = logits_of(model, xte)
    accuracy = (logits.argmax(1) == test_y).float().mean().item()
    out = args.out
    os.makedirs(os.path.join(out, "models", "samples"), exist_ok=True)
    fixtures = os.path.join(out, "test", "fixtures", "fashion")
    os.makedirs(fixtures, exist_ok=True)
    preprocess = {"resize": SIZE, "crop": SIZE, "mean": [mean], "std": [std], "mode": "L", "interpolation": "bilinear"}
    metadata = {
        "densenet.labels": json.dumps(LABELS),
        "densenet.preprocess": json.dumps(preprocess),
        "densenet.description": "torchvision DenseNet(growth_rate=12, block_config=(6, 12, 12), num_init_features=32) "
                                f"trained on Fashion-MNIST by scripts/train_fashion_mnist.py; test accuracy {accuracy:.4f} (PyTorch)",
    }
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    save_safetensors(os.path.join(out, "models", "fashion-mnist-densenet.safetensors"), state, metadata)
    # 12 samples: the first test image of each class, then the next two test images.
    picks = [int((test_y == c).nonzero()[0]) for c in range(10)]
    picks += [i for i in range(len(test_y)) if i not in picks][:2]
    for i in picks:
        name = f"{i:04d}-{LABELS[int(test_y[i])].replace('/', '-').replace(' ', '-').lower()}.png"
        Image.fromarray(test_u8[i], mode="L").save(os.path.join(out, "models", "samples", name))
    np.save(os.path.join(fixtures, "t10k-logits.npy"), logits.numpy().astype(np.float32))
    write_idx(os.path.join(fixtures, "slice-images-idx3-ubyte.gz"), test_u8[:500])
    write_idx(os.path.join(fixtures, "slice-labels-idx1-ubyte.gz"), test_y[:500].numpy().astype(np.uint8))
    with open(os.path.join(fixtures, "training.json"), "w") as f:
        json.dump({"epochs": args.epochs, "accuracy_pytorch": accuracy, "seconds": round(time.time() - t_start),
                   "torch": torch.__version__, "torchvision": torchvision.__version__, "arch": ARCH, "input": SIZE,
                   "preprocess": preprocess}, f, indent=1)
    print(f"done: test accuracy {accuracy:.4f}, {time.time() - t_start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
