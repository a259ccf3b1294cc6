#!/usr/bin/env python3
"""Looks at what the virtual Pi's screen and speaker gave: pictures (PPM from QEMU, PNG from the
programs) and the captured sound.

    pixels.py differ A B X0 Y0 X1 Y1   share (0–1) of pixels in the box that differ between A and B
    pixels.py colours A                 how many distinct colours A has (a blank screen has one)
    pixels.py loud WAV                  RMS level (0–1) of the loudest tenth of a second
    pixels.py png A OUT.png             A as PNG, to keep as an artefact
"""
import struct
import sys
import zlib


def read_ppm(data):
    parts = []
    i = 0
    while len(parts) < 4:
        while data[i:i + 1].isspace():
            i += 1
        if data[i:i + 1] == b"#":
            while data[i:i + 1] != b"\n":
                i += 1
            continue
        j = i
        while not data[j:j + 1].isspace():
            j += 1
        parts.append(data[i:j])
        i = j
    if parts[0] != b"P6":
        raise SystemExit("pixels: only binary PPM (P6)")
    w, h = int(parts[1]), int(parts[2])
    return w, h, data[i + 1:i + 1 + w * h * 3]


def read_png(data, rows=None):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("pixels: not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise SystemExit("pixels: only 8-bit RGB/RGBA PNG without interlace")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = w * bpp
    out, prev = bytearray(), bytearray(stride)
    for y in range(h if rows is None else min(rows, h)):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 2:
            line = bytearray((v + u) & 255 for v, u in zip(line, prev))
            f = 0
        for x in range(stride if f else 0):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        if bpp == 3:
            out += line
        else:
            for x in range(w):
                out += line[x * 4:x * 4 + 3]
    if rows is not None and rows < h:
        out += bytes(w * 3 * (h - rows))
    return w, h, bytes(out)


def load(path, rows=None):
    """The picture as (width, height, RGB bytes); with `rows`, only the rows above that are
    decoded (the rest is black), which is all a box needs."""
    data = open(path, "rb").read()
    return read_png(data, rows) if data[:4] == b"\x89PNG" else read_ppm(data)


def write_png(path, w, h, rgb):
    raw = b"".join(b"\0" + rgb[y * w * 3:(y + 1) * w * 3] for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def main():
    command, *args = sys.argv[1:]
    if command == "differ":
        rows = int(args[5])
        (wa, ha, a), (wb, hb, b) = load(args[0], rows), load(args[1], rows)
        if (wa, ha) != (wb, hb):
            raise SystemExit(f"pixels: sizes differ: {wa}x{ha} and {wb}x{hb}")
        x0, y0, x1, y1 = (int(v) for v in args[2:6])
        total = differ = 0
        for y in range(y0, y1):
            for x in range(x0, x1):
                i = (y * wa + x) * 3
                total += 1
                if max(abs(a[i + k] - b[i + k]) for k in range(3)) > 48:
                    differ += 1
        print(f"{differ / max(total, 1):.4f}")
    elif command == "colours":
        w, h, a = load(args[0])
        print(len({a[i:i + 3] for i in range(0, len(a), 3 * 7)}))
    elif command == "loud":
        # QEMU writes the header's lengths only when it exits: read the samples after it.
        data = open(args[0], "rb").read()[44:]
        samples = struct.unpack(f"<{len(data) // 2}h", data[: len(data) // 2 * 2])
        window = 4410
        loudest = 0.0
        for i in range(0, len(samples), window):
            part = samples[i:i + window]
            loudest = max(loudest, (sum(v * v for v in part) / max(len(part), 1)) ** 0.5 / 32768)
        print(f"{loudest:.5f}")
    elif command == "png":
        w, h, a = load(args[0])
        write_png(args[1], w, h, a)
    else:
        raise SystemExit(f"pixels: unknown command {command}")


if __name__ == "__main__":
    main()
