#!/usr/bin/python3
"""PyTorch's answers for the embedded Fashion-MNIST model on its bundled samples, for the tests.

Loads models/fashion-mnist-densenet.safetensors into torchvision's DenseNet (the architecture of
scripts/train_fashion_mnist.py), preprocesses each PNG in models/samples/ with Pillow and
torchvision's transforms as its metadata says, and writes test/fixtures/fashion/samples.json:
per sample its logits, softmax probabilities and the globally pooled features (float64 printed
from PyTorch's float32 values).

Usage: /usr/bin/python3 scripts/make_fashion_fixtures.py
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torchvision import transforms as T

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODEL = os.path.join(ROOT, "models", "fashion-mnist-densenet.safetensors")


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n, = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[e["dtype"]]
        tensors[name] = torch.from_numpy(np.frombuffer(data[8 + n + a:8 + n + b], dtype=dtype).reshape(e["shape"]).copy())
    return tensors, meta


def main():
    tensors, meta = read_safetensors(MODEL)
    pre = json.loads(meta["densenet.preprocess"])
    labels = json.loads(meta["densenet.labels"])
    model = torchvision.models.DenseNet(growth_rate=12, block_config=(6, 12, 12), num_init_features=32, bn_size=4, num_classes=10)
    model.features.conv0 = torch.nn.Conv2d(1, 32, kernel_size=7, stride=2, padding=3, bias=False)
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    model.eval()
    tf = T.Compose([T.Resize(pre["resize"]), T.CenterCrop(pre["crop"]), T.ToTensor(), T.Normalize(pre["mean"], pre["std"])])
    samples = sorted(f for f in os.listdir(os.path.join(ROOT, "models", "samples")) if f.endswith(".png"))
    out = []
    with torch.no_grad():
        for name in samples:
            x = tf(Image.open(os.path.join(ROOT, "models", "samples", name)).convert(pre["mode"]))[None]
            feats = F.adaptive_avg_pool2d(F.relu(model.features(x)), 1).flatten(1)
            logits = model.classifier(feats)
            probs = torch.softmax(logits.double(), 1)
            out.append({"file": name, "logits": logits[0].tolist(), "probabilities": probs[0].tolist(),
                        "features": feats[0].tolist(), "top1": labels[int(logits.argmax())]})
    path = os.path.join(ROOT, "test", "fixtures", "fashion", "samples.json")
    with open(path, "w") as f:
        json.dump({"model": "models/fashion-mnist-densenet.safetensors", "samples": out}, f)
    print(f"wrote {path}: {len(out)} samples")


if __name__ == "__main__":
    main()
