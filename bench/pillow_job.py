#!/usr/bin/env python3
"""One job of `stripflow report`, done the way a Pillow user would write it.

Usage: pillow_job.py OP [N..] IN OUT, where OP is
  width W        resize to W wide, keeping the aspect ratio (Image.thumbnail, which uses JPEG
                 draft mode and a reducing pass, when shrinking; Image.resize with LANCZOS otherwise)
  crop-br W H    crop W x H at the bottom-right corner
  cover W H      ImageOps.fit to exactly W x H (centre crop to the aspect, LANCZOS)
  transcode      full size, format change only
Outputs: JPEG quality 85 (4:2:0), PNG compress_level 1, WebP quality 80 (method 4), AVIF
quality 50 (Pillow >= 11.3). `pillow_job.py --version` prints the version.

The decompression-bomb check is lifted: a user processing 16K images has to do the same.
"""
import sys

from PIL import Image, ImageOps

Image.MAX_IMAGE_PIXELS = None


def main(argv):
    if argv[1:] == ["--version"]:
        import PIL
        print("Pillow " + PIL.__version__ + " (Python " + sys.version.split()[0] + ")")
        return 0
    op = argv[1]
    nums = {"width": 1, "crop-br": 2, "cover": 2, "transcode": 0}[op]
    values = [int(v) for v in argv[2:2 + nums]]
    src, dst = argv[2 + nums:4 + nums]
    im = Image.open(src)
    if op == "width":
        (w,) = values
        h = max(1, (im.height * w + im.width // 2) // im.width)
        if w < im.width:
            im.thumbnail((w, h), Image.LANCZOS)
        else:
            im = im.resize((w, h), Image.LANCZOS)
    elif op == "crop-br":
        w, h = values
        im = im.crop((im.width - w, im.height - h, im.width, im.height))
    elif op == "cover":
        im = ImageOps.fit(im, tuple(values), Image.LANCZOS)
    if dst.endswith(".jpg"):
        if im.mode != "RGB":
            im = im.convert("RGB")
        im.save(dst, "JPEG", quality=85, subsampling="4:2:0")
    elif dst.endswith(".webp"):
        im.save(dst, "WEBP", quality=80, method=4)
    elif dst.endswith(".avif"):
        im.save(dst, "AVIF", quality=50)
    else:
        im.save(dst, "PNG", compress_level=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
