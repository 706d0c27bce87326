#!/usr/bin/env python3
"""Cuts the kernel's BTF (.BTF section) out of an arm64 kernel image.

Usage: btf-from-image.py IMAGE OUT.btf

IMAGE is what a Debian arm64 kernel package ships as /boot/vmlinuz-*:
a raw arm64 Image, a gzip'd one, or an EFI zboot image (gzip or zstd
payload). The image is not an ELF file, so the section cannot be found
by name: the BTF header is found by its magic (0xeB9F, version 1) and
its lengths say where the blob ends. When several places look like a
header, the largest consistent blob is the kernel's. Then:

  bpftool btf dump file OUT.btf format c > vmlinux.h
"""

import gzip
import shutil
import struct
import subprocess
import sys

# struct btf_header: magic u16, version u8, flags u8, hdr_len u32,
# type_off u32, type_len u32, str_off u32, str_len u32 (little endian).
HEADER = struct.Struct("<HBBIIIII")
MAGIC = b"\x9f\xeb\x01\x00"


def raw_image(data):
    """The raw Image inside DATA, whatever the package wrapped it in."""
    if data[0x38:0x3C] == b"ARM\x64":
        return data
    if data[:2] == b"\x1f\x8b":
        return raw_image(gzip.decompress(data))
    if data[:2] == b"MZ" and data[4:8] == b"zimg":
        # EFI zboot: payload offset and size at 8 and 12, the
        # compression's name at 24.
        off, size = struct.unpack_from("<II", data, 8)
        comp = data[24:56].split(b"\0", 1)[0].decode()
        payload = data[off : off + size]
        if comp == "gzip":
            return raw_image(gzip.decompress(payload))
        if comp == "zstd":
            if shutil.which("zstd") is None:
                sys.exit("btf-from-image: a zstd zboot image needs zstd")
            out = subprocess.run(
                ["zstd", "-dcq"], input=payload, stdout=subprocess.PIPE, check=True
            )
            return raw_image(out.stdout)
        sys.exit(f"btf-from-image: zboot payload compressed with {comp!r}")
    sys.exit("btf-from-image: not an arm64 Image, gzip'd Image or EFI zboot image")


def find_btf(image):
    best = None
    pos = image.find(MAGIC)
    while pos >= 0:
        if pos + HEADER.size <= len(image):
            _, _, _, hdr_len, type_off, type_len, str_off, str_len = HEADER.unpack_from(
                image, pos
            )
            end = pos + hdr_len + str_off + str_len
            if (
                hdr_len == HEADER.size
                and type_off == 0
                and str_off == type_len
                and str_len > 0
                and end <= len(image)
                and image[pos + hdr_len + str_off] == 0
                and (best is None or end - pos > len(best))
            ):
                best = image[pos:end]
        pos = image.find(MAGIC, pos + 1)
    return best


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], "rb") as f:
        image = raw_image(f.read())
    btf = find_btf(image)
    if btf is None:
        sys.exit("btf-from-image: no BTF in the image (CONFIG_DEBUG_INFO_BTF off?)")
    with open(sys.argv[2], "wb") as f:
        f.write(btf)
    print(f"btf-from-image: {len(btf)} bytes of BTF", file=sys.stderr)


if __name__ == "__main__":
    main()
