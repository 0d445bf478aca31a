#!/usr/bin/python3
"""Write torch.save (.pth) versions of committed fixtures, for the .pth loader's tests.

Usage: /usr/bin/python3 scripts/make_pth_fixtures.py   # -> test/fixtures/pth/

Reads test/fixtures/<name>.safetensors (made by make_fixtures.py) and writes, with
Debian's PyTorch:
    narrow_odd.pth            torch.save(state_dict): the common case
    legacy_keys.ckpt.pth      a training checkpoint {"epoch", "state_dict", "optimizer"}
                              whose state_dict has torchvision's legacy `norm.1` keys
    narrow_odd.strided.pth    the state_dict with classifier.weight stored transposed
                              (a non-contiguous view: the loader must follow its strides)
    malicious.pth             a ZIP whose data.pkl calls os.system on load: the loader must
                              refuse it without running anything
The tests require the first three to give bitwise the same logits as the .safetensors files.
"""
import io
import os
import pickle
import sys
import zipfile

import torch

sys.path.insert(0, os.path.dirname(__file__))
from make_fixtures import read_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "test", "fixtures")
OUT = os.path.join(FIXTURES, "pth")


class RunsAShellCommand:
    """Unpickling this calls os.system: what a restricted unpickler must refuse."""

    def __reduce__(self):
        return (os.system, ("echo this checkpoint ran code",))


def state_dict(name):
    tensors = read_safetensors(os.path.join(FIXTURES, f"{name}.safetensors"))
    return {k: torch.from_numpy(v.copy()) for k, v in tensors.items()}


def main():
    os.makedirs(OUT, exist_ok=True)
    narrow = state_dict("narrow_odd")
    torch.save(narrow, os.path.join(OUT, "narrow_odd.pth"))
    strided = dict(narrow)
    strided["classifier.weight"] = narrow["classifier.weight"].t().contiguous().t()
    assert not strided["classifier.weight"].is_contiguous()
    torch.save(strided, os.path.join(OUT, "narrow_odd.strided.pth"))
    torch.save({"epoch": 7, "state_dict": state_dict("legacy_keys"), "optimizer": {"lr": 0.01}},
               os.path.join(OUT, "legacy_keys.ckpt.pth"))
    with zipfile.ZipFile(os.path.join(OUT, "malicious.pth"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("malicious/data.pkl", pickle.dumps({"x": RunsAShellCommand()}, protocol=2))
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))


if __name__ == "__main__":
    main()
