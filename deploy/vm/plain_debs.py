#!/usr/bin/env python3
"""Rewrites .deb files so that their contents (data.tar) are stored uncompressed.

    plain_debs.py DIR     every DIR/*.deb whose data member is xz-compressed

The base image's packages are unpacked by dpkg inside the emulated machine, where decompressing
xz costs minutes of CPU; uncompressed it is only copying. The files, their owners, modes and the
control member are left exactly as they are: only the data member's compression changes, which
dpkg accepts (deb(5): data.tar may be uncompressed).
"""
import lzma
import os
import sys

MAGIC = b"!<arch>\n"


def members(blob):
    """(name, header, data) of each ar member, in order."""
    if not blob.startswith(MAGIC):
        raise ValueError("not an ar archive")
    at = len(MAGIC)
    while at < len(blob):
        header = blob[at : at + 60]
        name = header[:16].decode().rstrip().rstrip("/")
        size = int(header[48:58].decode().strip())
        data = blob[at + 60 : at + 60 + size]
        yield name, header, data
        at += 60 + size + (size % 2)


def header_for(old, name, size):
    # The same date, owner, group and mode as the member it replaces.
    return name.encode().ljust(16) + old[16:48] + str(size).encode().ljust(10) + b"`\n"


def plain(path):
    blob = open(path, "rb").read()
    parts = list(members(blob))
    if not any(name == "data.tar.xz" for name, _, _ in parts):
        return False
    out = [MAGIC]
    for name, header, data in parts:
        if name == "data.tar.xz":
            data = lzma.decompress(data)
            header = header_for(header, "data.tar", len(data))
        out.append(header)
        out.append(data)
        if len(data) % 2:
            out.append(b"\n")
    tmp = path + ".plain"
    with open(tmp, "wb") as f:
        f.write(b"".join(out))
    os.replace(tmp, path)
    return True


def main():
    folder = sys.argv[1]
    done = sum(plain(os.path.join(folder, n)) for n in sorted(os.listdir(folder)) if n.endswith(".deb"))
    print(f"plain_debs: {done} packages' contents stored uncompressed in {folder}", file=sys.stderr)


if __name__ == "__main__":
    main()
