// EXIF orientation, applied as Pillow's ImageOps.exif_transpose does (opt-in: Pillow's
// Image.open and torchvision's loaders ignore it).
import { CHANNELS, type DecodedImage } from "./types.js";

/**
 * The image as it should be displayed under EXIF orientation `o` (1..8): 2 mirror, 3 rotate
 * 180°, 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° anticlockwise.
 */
export function applyOrientation(img: DecodedImage, o: number): DecodedImage {
  if (o < 2 || o > 8) return img;
  const { width: w, height: h } = img;
  const swap = o >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const ch = CHANNELS[img.mode];
  const src = img.data;
  const out = new (src.constructor as Uint8ArrayConstructor | Uint16ArrayConstructor)(src.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      // The source pixel (sx, sy) shown at (x, y).
      let sx: number;
      let sy: number;
      switch (o) {
        case 2:
          sx = w - 1 - x;
          sy = y;
          break;
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;
        case 4:
          sx = x;
          sy = h - 1 - y;
          break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;
        default:
          sx = w - 1 - y;
          sy = x;
          break;
      }
      const s = (sy * w + sx) * ch;
      const d = (y * ow + x) * ch;
      for (let c = 0; c < ch; c++) out[d + c] = src[s + c];
    }
  }
  return { ...img, width: ow, height: oh, data: out } as DecodedImage;
}
