#!/usr/bin/python3
"""Image fixtures for test/image*.test.mjs, with their expected pixels from Pillow 9.4 and
torchvision (Debian's python3-pil / python3-torchvision): run with /usr/bin/python3.

    /usr/bin/python3 scripts/make_image_fixtures.py [--out test/fixtures/images]

Sources are the public-domain / CC0 photographs Debian's python3-skimage ships in
skimage/data/, re-encoded small with Pillow in every JPEG and PNG variant the decoder claims:
JPEG baseline 4:2:0/4:2:2/4:4:4, progressive, greyscale, CMYK (Adobe, inverted, as Pillow and
Photoshop write it) and YCCK, odd sizes, EXIF orientation tags; WebP lossy, lossless, with
alpha; PNG grey 1/2/4/8/16-bit,
grey+alpha 8/16, RGB 8/16, RGBA 8/16, palette 1/2/4/8-bit with and without tRNS, Adam7
interlaced. JPEG restart intervals and arithmetic coding come from jpegtran (Debian
libjpeg-turbo-progs, lossless transcoding of Pillow's files). Pillow writes what it can; the other PNGs are written here chunk by chunk (zlib,
every row filter type), and Pillow decodes them all as the reference.

For every image, manifest.json holds what Pillow decodes (in the decoder's modes), and for
each preprocessing spec the uint8 after convert(mode), after Resize, after CenterCrop and the
float32 tensor after ToTensor + Normalize, each as a SHA-256 of its raw bytes and, when small,
as a raw .bin file (uint8, uint16 or float32 little-endian) to diff against. The bad/ folder
holds hostile files, each with what Pillow does with it.
"""
import argparse
import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import warnings
import zlib

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image, ImageOps
from torchvision import transforms as T

SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
INLINE_LIMIT = 4096  # arrays up to this many bytes are stored as .bin, larger ones by hash only (--inline-limit)
# RGB tensors stored as .bin whatever their size, to measure max|diff| and not only bitwise equality.
TENSOR_FILES = ("jpeg_420", "png_rgb", "jpeg_tiny_5x7", "jpeg_cmyk")
IMAGENET = dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])

SMALL = dict(resize=64, crop=56, mode="RGB", **IMAGENET)
SMALL_L = dict(resize=32, crop=28, mode="L", mean=[0.5], std=[0.25])
RECT = dict(resize=40, crop=[36, 30], mode="RGB", mean=[0.5, 0.4, 0.3], std=[0.2, 0.3, 0.25])
PAD = dict(resize=20, crop=[32, 26], mode="RGB", **IMAGENET)  # crop larger than the resized image
PAD_WIDTH = dict(resize=24, crop=[20, 40], mode="RGB", **IMAGENET)  # only the width is padded
LARGE = dict(resize=256, crop=224, mode="RGB", **IMAGENET)


def photo(name, size=None, mode="RGB", box=None):
    im = Image.open(os.path.join(SKIMAGE, name))
    im.load()
    im = im.convert(mode)
    if box:
        im = im.crop(box)
    if size:
        im = im.resize(size, Image.LANCZOS)
    return im


# ---------------------------------------------------------------- PNG writer (by hand)
def png_chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """One row of samples (ints) to bytes at `depth` bits per sample, big-endian."""
    if depth == 8:
        return bytes(int(v) for v in samples)
    if depth == 16:
        return b"".join(struct.pack(">H", int(v)) for v in samples)
    out, acc, nbits = bytearray(), 0, 0
    for v in samples:
        acc = (acc << depth) | int(v)
        nbits += depth
        if nbits == 8:
            out.append(acc)
            acc, nbits = 0, 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)


def filter_row(kind, row, prev, bpp):
    out = bytearray(len(row))
    for i in range(len(row)):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if kind == 0:
            p = 0
        elif kind == 1:
            p = a
        elif kind == 2:
            p = b
        elif kind == 3:
            p = (a + b) >> 1
        else:
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            p = a if pa <= pb and pa <= pc else b if pb <= pc else c
        out[i] = (row[i] - p) & 255
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(samples, color_type, depth, palette=None, trns=None, interlace=False, idat_split=3):
    """samples: (H, W, C) ints. Rows use filter types 0..4 in turn; IDAT split in pieces."""
    h, w, c = samples.shape
    bpp = max(1, c * depth // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw = bytearray()
    n = 0
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        prev = bytes(len(pack_row(sub[0].reshape(-1), depth)))
        for r in range(sub.shape[0]):
            row = pack_row(sub[r].reshape(-1), depth)
            kind = n % 5
            n += 1
            raw += bytes([kind]) + filter_row(kind, row, prev, bpp)
            prev = row
    z = zlib.compress(bytes(raw), 9)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, int(interlace)))
    if palette is not None:
        out += png_chunk(b"PLTE", bytes(int(v) for v in palette))
    if trns is not None:
        out += png_chunk(b"tRNS", bytes(int(v) for v in trns))
    step = max(1, -(-len(z) // idat_split))
    for i in range(0, len(z), step):
        out += png_chunk(b"IDAT", z[i:i + step])
    return out + png_chunk(b"IEND", b"")


def save(im, **kw):
    buf = io.BytesIO()
    im.save(buf, **kw)
    return buf.getvalue()


# ---------------------------------------------------------------- the images
def jpeg_images():
    cat = photo("chelsea.png", (120, 80))
    out = {
        "jpeg_420.jpg": save(cat, format="JPEG", quality=90, subsampling=2),
        "jpeg_422.jpg": save(cat, format="JPEG", quality=85, subsampling=1),
        "jpeg_444.jpg": save(cat, format="JPEG", quality=95, subsampling=0),
        "jpeg_progressive.jpg": save(photo("coffee.png", (96, 64)), format="JPEG", quality=80, progressive=True),
        "jpeg_grey.jpg": save(photo("camera.png", (72, 72), "L"), format="JPEG", quality=88),
        "jpeg_odd_37x23.jpg": save(photo("astronaut.png", (37, 23)), format="JPEG", quality=90, subsampling=2),
        "jpeg_tiny_5x7.jpg": save(photo("astronaut.png", (5, 7)), format="JPEG", quality=95),
        "jpeg_panorama_600x90.jpg": save(photo("coffee.png", (600, 90), box=(0, 150, 600, 240)), format="JPEG", quality=70),
        "jpeg_photo_400x300.jpg": save(photo("chelsea.png", (400, 266)), format="JPEG", quality=85),
    }
    cmyk = photo("rocket.jpg", (64, 90)).convert("CMYK")
    out["jpeg_cmyk.jpg"] = save(cmyk, format="JPEG", quality=90)
    out["jpeg_cmyk_progressive.jpg"] = save(photo("chelsea.png", (61, 43)).convert("CMYK"), format="JPEG", quality=75, progressive=True)
    # Pillow's `subsampling` sets the first component's factors: C at 2x2, M, Y, K at 1x1.
    out["jpeg_cmyk_subsampled.jpg"] = save(photo("coffee.png", (50, 38)).convert("CMYK"), format="JPEG", quality=90, subsampling=2)
    # The same CMYK file with its Adobe transform flag set to 2: libjpeg reads it as YCCK.
    ycck = bytearray(out["jpeg_cmyk.jpg"])
    at = ycck.find(b"Adobe")
    assert at > 0 and ycck[at + 11] == 0
    ycck[at + 11] = 2
    out["jpeg_ycck.jpg"] = bytes(ycck)
    ycck[at + 11] = 1  # 4 components with transform 1: libjpeg warns and reads YCCK too
    out["jpeg_cmyk_adobe_transform1.jpg"] = bytes(ycck)
    # Without an Adobe marker: libjpeg assumes plain CMYK, Pillow still inverts ("CMYK;I").
    plain = out["jpeg_cmyk.jpg"]
    app14 = plain.find(b"\xff\xee")
    seg = struct.unpack(">H", plain[app14 + 2:app14 + 4])[0]
    out["jpeg_cmyk_no_adobe.jpg"] = plain[:app14] + plain[app14 + 2 + seg:]
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": Pillow (and we, by default) ignore it
    out["jpeg_exif_orientation6.jpg"] = save(photo("chelsea.png", (48, 32)), format="JPEG", quality=90, exif=exif.tobytes())
    for o in (2, 3, 4, 5, 7, 8):
        exif[0x0112] = o
        out[f"jpeg_exif_orientation{o}.jpg"] = save(photo("astronaut.png", (7, 5)), format="JPEG", quality=95, exif=exif.tobytes())
    jpegtran = shutil.which("jpegtran")
    if not jpegtran:
        raise SystemExit("jpegtran not found: apt-get install libjpeg-turbo-progs")
    tran = lambda data, *a: subprocess.run([jpegtran, *a], input=data, capture_output=True, check=True).stdout
    out["jpeg_restart.jpg"] = tran(out["jpeg_420.jpg"], "-restart", "3B")
    out["jpeg_cmyk_restart.jpg"] = tran(out["jpeg_cmyk_subsampled.jpg"], "-restart", "1")
    out["jpeg_cmyk_progressive_restart.jpg"] = tran(out["jpeg_cmyk_progressive.jpg"], "-restart", "2B")
    return out


def webp_images():
    cat = photo("chelsea.png", (90, 60))
    rgba = Image.merge("RGBA", [*photo("coffee.png", (80, 53)).split(), photo("coins.png", (80, 53), "L")])
    return {
        "webp_lossy.webp": save(cat, format="WEBP", quality=80),
        "webp_lossless.webp": save(cat, format="WEBP", lossless=True),
        "webp_alpha.webp": save(rgba, format="WEBP", quality=75),
        "webp_lossless_alpha.webp": save(rgba, format="WEBP", lossless=True),
        "webp_odd_37x23.webp": save(photo("astronaut.png", (37, 23)), format="WEBP", quality=90),
    }


def png_images():
    rgb = np.asarray(photo("astronaut.png", (37, 29)), dtype=np.int64)
    grey = np.asarray(photo("camera.png", (33, 27), "L"), dtype=np.int64)[:, :, None]
    alpha = np.asarray(photo("coins.png", (37, 29), "L"), dtype=np.int64)[:, :, None]
    h, w = grey.shape[:2]
    out = {
        "png_rgb.png": save(photo("chelsea.png", (90, 60)), format="PNG"),
        "png_rgba.png": save(Image.merge("RGBA", [*photo("coffee.png", (80, 53)).split(), photo("coins.png", (80, 53), "L")]), format="PNG"),
        "png_grey.png": save(photo("camera.png", (64, 64), "L"), format="PNG"),
        "png_grey_alpha.png": save(Image.merge("LA", [photo("camera.png", (50, 40), "L"), photo("coins.png", (50, 40), "L")]), format="PNG"),
        "png_palette.png": save(photo("chelsea.png", (70, 47)).quantize(64), format="PNG"),
        "png_1bit_pillow.png": save(photo("camera.png", (45, 45), "L").convert("1"), format="PNG"),
        "png_palette_4bit_pillow.png": save(photo("coffee.png", (40, 27)).quantize(16), format="PNG", bits=4),
        "png_tiny_5x7.png": save(photo("astronaut.png", (5, 7)), format="PNG"),
        "png_panorama_480x72.png": save(photo("astronaut.png", (480, 72), box=(0, 200, 512, 277)).quantize(256), format="PNG"),
        "png_photo_340x226.png": save(photo("chelsea.png", (340, 226)).quantize(256), format="PNG", compress_level=9),
    }
    pal_im = photo("chelsea.png", (70, 47)).quantize(64)
    pal_im.info["transparency"] = bytes(range(0, 256, 5))[:40]
    out["png_palette_trns.png"] = save(pal_im, format="PNG", transparency=pal_im.info["transparency"])
    # By hand: every grey depth, 16-bit colour, palettes at 1/2/4/8 bits, interlaced variants.
    for depth in (1, 2, 4, 8):
        out[f"png_grey_{depth}bit.png"] = write_png(grey >> (8 - depth), 0, depth)
    g16 = grey * 257
    g16[::2] = grey[::2]  # half the rows below 256, so Pillow's clamp to "L" keeps them
    out["png_grey_16bit.png"] = write_png(g16, 0, 16)
    out["png_grey_16bit_interlaced.png"] = write_png(g16, 0, 16, interlace=True)
    noise = (np.arange(h * w * 3).reshape(h, w, 3) * 37) % 256
    out["png_rgb_16bit.png"] = write_png(rgb[:h, :w] * 256 + noise, 2, 16)
    out["png_grey_alpha_16bit.png"] = write_png(np.concatenate([grey * 257, alpha[:h, :w] * 256 + 7], axis=2), 4, 16)
    out["png_rgba_16bit.png"] = write_png(np.concatenate([rgb * 257, alpha * 257], axis=2), 6, 16)
    out["png_rgba_16bit_interlaced.png"] = write_png(np.concatenate([rgb * 257, alpha * 257], axis=2), 6, 16, interlace=True)
    out["png_rgb_interlaced.png"] = write_png(rgb, 2, 8, interlace=True)
    out["png_grey_alpha_interlaced.png"] = write_png(np.concatenate([grey, alpha[:h, :w]], axis=2), 4, 8, interlace=True)
    out["png_grey_1bit_interlaced.png"] = write_png(grey >> 7, 0, 1, interlace=True)
    out["png_grey_2bit_interlaced.png"] = write_png(grey >> 6, 0, 2, interlace=True)
    rng = np.random.default_rng(9)
    for depth in (1, 2, 4, 8):
        colours = 1 << depth
        pal = rng.integers(0, 256, (colours, 3))
        idx = (grey >> (8 - depth)) % colours
        out[f"png_palette_{depth}bit.png"] = write_png(idx, 3, depth, palette=pal.reshape(-1))
    pal = rng.integers(0, 256, (16, 3))
    out["png_palette_4bit_trns_interlaced.png"] = write_png(grey >> 4, 3, 4, palette=pal.reshape(-1), trns=list(range(0, 160, 16)), interlace=True)
    out["png_grey_trns.png"] = write_png(grey, 0, 8, trns=[0, 40])  # grey tRNS: ignored by convert
    # Indices past a 6-entry PLTE: Pillow maps them to its default palette, a grey ramp (i, i, i).
    out["png_palette_out_of_range.png"] = write_png(grey >> 5, 3, 8, palette=[10, 20, 30, 200, 100, 50, 0, 90, 180, 255, 255, 0, 7, 7, 7, 99, 0, 99])
    return out


# ---------------------------------------------------------------- expected values
def decoded_like_ours(im):
    """Pillow's opened image in the decoder's modes (see src/image/types.ts)."""
    if im.mode in ("L", "LA", "RGB", "CMYK"):
        return im.mode, np.asarray(im)
    if im.mode == "1":
        return "L", np.asarray(im.convert("L"))
    if im.mode == "P":
        if "transparency" in im.info:
            return "RGBA", np.asarray(im.convert("RGBA"))
        return "RGB", np.asarray(im.convert("RGB"))
    if im.mode == "I":
        a = np.asarray(im)
        assert a.min() >= 0 and a.max() < 65536
        return "I;16", a.astype("<u2")
    if im.mode == "RGBA":
        return "RGBA", np.asarray(im)
    raise ValueError(f"unexpected mode {im.mode}")


class Writer:
    def __init__(self, out, inline_limit):
        self.out = out
        self.inline_limit = inline_limit
        self.bytes = 0

    def array(self, stem, a, keep=False):
        a = np.ascontiguousarray(a)
        raw = a.tobytes()
        entry = {"shape": list(a.shape), "dtype": str(a.dtype), "sha256": hashlib.sha256(raw).hexdigest()}
        if len(raw) <= self.inline_limit or keep:
            path = f"expected/{stem}.bin"
            with open(os.path.join(self.out, path), "wb") as f:
                f.write(raw)
            self.bytes += len(raw)
            entry["file"] = path
        return entry


def expected_for(writer, stem, im, specs):
    mode, decoded = decoded_like_ours(im)
    if im.mode == "RGBA" and stem.startswith("png_grey_alpha_16bit"):
        mode, decoded = "LA", decoded[:, :, [0, 3]]  # Pillow reads 16-bit LA as RGBA (L, L, L, A)
    entry = {"mode": mode, "pillow_mode": im.mode, "width": im.width, "height": im.height,
             "decoded": writer.array(f"{stem}.decoded", decoded), "specs": []}
    orientation = im.getexif().get(0x0112)
    if orientation:
        entry["exif_orientation"] = orientation
        entry["exif_transposed"] = writer.array(f"{stem}.transposed", decoded_like_ours(ImageOps.exif_transpose(im))[1])
    for k, spec in enumerate(specs):
        conv = im.convert(spec["mode"])
        crop = spec["crop"]
        resized = T.Resize(spec["resize"])(conv)
        cropped = T.CenterCrop(crop)(resized)
        tensor = T.Compose([T.Resize(spec["resize"]), T.CenterCrop(crop), T.ToTensor(),
                            T.Normalize(spec["mean"], spec["std"])])(conv)
        entry["specs"].append({
            "spec": spec,
            "converted": writer.array(f"{stem}.{k}.converted", np.asarray(conv)),
            "resized": writer.array(f"{stem}.{k}.resized", np.asarray(resized)),
            "cropped": writer.array(f"{stem}.{k}.cropped", np.asarray(cropped)),
            "tensor": writer.array(f"{stem}.{k}.tensor", tensor.numpy().astype("<f4"), keep=k == 0 and stem in TENSOR_FILES),
        })
    return entry


def specs_for(name, im):
    if "photo" in name:
        return [LARGE, SMALL_L]  # SMALL_L: shrinking by 8 to 10 times
    if "orientation" in name and "orientation6" not in name:
        return []
    specs = [SMALL, SMALL_L]
    if "tiny" in name:
        specs.append(PAD)
    if name in ("jpeg_420.jpg", "png_rgb.png", "png_grey_4bit.png", "jpeg_cmyk.jpg", "png_panorama_480x72.png"):
        specs.append(RECT)
    if name in ("jpeg_420.jpg", "png_rgb.png", "webp_lossy.webp"):
        specs.append(PAD_WIDTH)
    return specs


# ---------------------------------------------------------------- hostile files
def bad_files(good_jpeg, good_png, good_webp):
    jpegtran = shutil.which("jpegtran")
    arithmetic = subprocess.run([jpegtran, "-arithmetic"], input=good_jpeg, capture_output=True, check=True).stdout
    sof = good_jpeg.find(b"\xff\xc0")
    bomb_jpeg = bytearray(good_jpeg)
    bomb_jpeg[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)
    zero_jpeg = bytearray(good_jpeg)
    zero_jpeg[sof + 5:sof + 9] = struct.pack(">HH", 0, 0)
    ihdr = lambda w, h: png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    sig = b"\x89PNG\r\n\x1a\n"
    tiny_idat = png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    bad_crc = bytearray(good_png)
    bad_crc[33 + 8 + 4] ^= 0xFF  # a byte inside the first chunk after IHDR
    short_idat = sig + ihdr(40, 30) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 500)) + png_chunk(b"IEND", b"")
    return {
        "truncated.jpg": good_jpeg[: len(good_jpeg) * 6 // 10],
        "truncated_before_eoi.jpg": good_jpeg[:-2],
        "truncated.png": good_png[: len(good_png) * 6 // 10],
        "bad_crc.png": bytes(bad_crc),
        "short_image_data.png": short_idat,
        "text.jpg": b"This is a text file, not a JPEG.\n",
        "empty.png": b"",
        "zero_size.png": sig + ihdr(0, 0) + tiny_idat + png_chunk(b"IEND", b""),
        "zero_size.jpg": bytes(zero_jpeg),
        "bomb_50000x50000.png": sig + ihdr(50000, 50000) + tiny_idat + png_chunk(b"IEND", b""),
        "bomb_60000x60000.jpg": bytes(bomb_jpeg),
        # A 16×16 header whose image data inflates to 100 MB (a zlib bomb, 97 KB).
        "zlib_bomb.png": sig + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 100_000_000, 9)) + png_chunk(b"IEND", b""),
        "arithmetic.jpg": arithmetic,  # Pillow decodes it; mozjpeg's WASM build has no arithmetic decoder
        "image.gif": save(photo("astronaut.png", (16, 16)), format="GIF"),
        "image.bmp": save(photo("astronaut.png", (8, 8)), format="BMP"),
        "truncated.webp": good_webp[: len(good_webp) * 6 // 10],
        "animated.webp": save(photo("astronaut.png", (16, 16)), format="WEBP", save_all=True,
                              append_images=[photo("coffee.png", (16, 16))], duration=100),
    }


def pillow_outcome(data):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            im.load()
        return f"decodes ({im.mode} {im.width}x{im.height})"
    except Exception as e:  # noqa: BLE001 - recording what Pillow does, whatever it is
        return f"{type(e).__name__}: {e}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "images"))
    ap.add_argument("--inline-limit", type=int, default=INLINE_LIMIT, help="store arrays up to this many bytes as .bin")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    for sub in ("", "expected", "bad"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    for sub in ("", "expected", "bad"):
        for f in os.listdir(os.path.join(out, sub)):
            if os.path.isfile(os.path.join(out, sub, f)):
                os.remove(os.path.join(out, sub, f))
    writer = Writer(out, args.inline_limit)
    images = {**jpeg_images(), **png_images(), **webp_images()}
    manifest = {"pillow": PIL.__version__, "torchvision": torchvision.__version__, "torch": torch.__version__,
                "images": {}, "bad": {}}
    for name, data in sorted(images.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        im = Image.open(io.BytesIO(data))
        im.load()
        stem = os.path.splitext(name)[0]
        manifest["images"][name] = expected_for(writer, stem, im, specs_for(name, im))
    for name, data in sorted(bad_files(images["jpeg_420.jpg"], images["png_rgb.png"], images["webp_lossy.webp"]).items()):
        with open(os.path.join(out, "bad", name), "wb") as f:
            f.write(data)
        manifest["bad"][name] = {"pillow": pillow_outcome(data)}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        # One line per image, so the file stays small and diffs stay readable.
        f.write("{\n")
        for key in ("pillow", "torch", "torchvision"):
            f.write(f" {json.dumps(key)}: {json.dumps(manifest[key])},\n")
        for group in ("images", "bad"):
            items = sorted(manifest[group].items())
            f.write(f" {json.dumps(group)}: {{\n")
            for i, (name, entry) in enumerate(items):
                comma = "," if i < len(items) - 1 else ""
                f.write(f"  {json.dumps(name)}: {json.dumps(entry, sort_keys=True, separators=(',', ':'))}{comma}\n")
            f.write(" }" + (",\n" if group == "images" else "\n"))
        f.write("}\n")
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print(f"{len(images)} images, {len(manifest['bad'])} bad files, {writer.bytes} bytes of expected arrays, {total} bytes in all")


if __name__ == "__main__":
    main()
