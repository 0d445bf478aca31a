#!/usr/bin/python3
"""Fixtures for classify() on real photographs with a torchvision DenseNet (test/fixtures/classify/).

A small torchvision DenseNet with 1000 classes (seeded random weights, randomised BatchNorm
statistics, a classifier scaled so the softmax is peaked) is exported with
scripts/export_safetensors.py (ImageNet preprocessing and labels in its metadata). Photographs
from Debian's python3-skimage data (public domain / CC0) are written as JPEG and PNG, and PyTorch's
answer for each -- Image.open(f).convert("RGB"), Resize(256), CenterCrop(224), ToTensor(),
Normalize(ImageNet), the model, softmax in float64 -- goes to expected.json with the top-5.

Usage: /usr/bin/python3 scripts/make_classify_fixtures.py
"""
import json
import os
import sys

import torch
import torchvision
from PIL import Image
from torchvision import transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from export_safetensors import save_safetensors  # noqa: E402

OUT = os.path.join(HERE, "..", "test", "fixtures", "classify")
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(2024)
    model = torchvision.models.DenseNet(growth_rate=8, block_config=(2, 3, 2), num_init_features=16, bn_size=2, num_classes=1000)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        model.classifier.weight.mul_(40)
    model.eval()
    from torchvision.models._meta import _IMAGENET_CATEGORIES
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    save_safetensors(os.path.join(OUT, "imagenet-small.safetensors"), state, {
        "densenet.preprocess": json.dumps({"resize": 256, "crop": 224, "mean": mean, "std": std, "mode": "RGB"}),
        "densenet.labels": json.dumps(list(_IMAGENET_CATEGORIES)),
    })
    photos = []
    for src, out, kw in [("chelsea.png", "chelsea.jpg", {"quality": 90}), ("coffee.png", "coffee-444.jpg", {"quality": 92, "subsampling": 0}),
                         ("astronaut.png", "astronaut-progressive.jpg", {"quality": 85, "progressive": True}),
                         ("camera.png", "camera-grey.png", {})]:
        img = Image.open(os.path.join(SKIMAGE, src))
        img = img.resize((img.width * 3 // 4, img.height * 3 // 4), Image.BICUBIC) if img.width > 450 else img
        img.save(os.path.join(OUT, out), **kw)
        photos.append(out)
    tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(mean, std)])
    expected = []
    with torch.no_grad():
        for name in photos:
            x = tf(Image.open(os.path.join(OUT, name)).convert("RGB"))[None]
            p = torch.softmax(model(x).double(), 1)[0]
            top = torch.topk(p, 5)
            expected.append({"file": name, "top": [{"index": int(i), "label": _IMAGENET_CATEGORIES[int(i)], "probability": float(v)}
                                                   for v, i in zip(top.values, top.indices)]})
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print(f"wrote {OUT}: {', '.join(photos)}")


if __name__ == "__main__":
    main()
