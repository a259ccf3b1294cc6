#!/usr/bin/env python3
"""Downloads Debian packages of one architecture from the archive, checked against the archive's
signed InRelease (gpgv with Debian's keyring), without touching this machine's apt.

    fetch_deb.py MIRROR SUITE ARCH OUT_DIR PACKAGE [PACKAGE ...]

A package whose name is a metapackage (linux-image-arm64) is followed to the first package it
depends on. Prints the path of each downloaded .deb.
"""
import hashlib
import lzma
import os
import subprocess
import sys
import tempfile
import urllib.request

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def get(url):
    with urllib.request.urlopen(url, timeout=120) as r:
        return r.read()


def main():
    mirror, suite, arch, out, *wanted = sys.argv[1:]
    mirror = mirror.rstrip("/")
    inrelease = get(f"{mirror}/dists/{suite}/InRelease")
    with tempfile.TemporaryDirectory() as tmp:
        signed = os.path.join(tmp, "InRelease")
        with open(signed, "wb") as f:
            f.write(inrelease)
        plain = os.path.join(tmp, "Release")
        subprocess.run(["gpgv", "--keyring", KEYRING, "--output", plain, signed],
                       check=True, capture_output=True)
        release = open(plain).read()
    path = f"main/binary-{arch}/Packages.xz"
    want_sum = None
    in_sha = False
    for line in release.splitlines():
        if line.startswith("SHA256:"):
            in_sha = True
        elif not line.startswith(" "):
            in_sha = False
        elif in_sha and line.split()[2] == path:
            want_sum = line.split()[0]
    if want_sum is None:
        sys.exit(f"fetch_deb: {path} is not in {suite}'s Release")
    packages_xz = get(f"{mirror}/dists/{suite}/{path}")
    if hashlib.sha256(packages_xz).hexdigest() != want_sum:
        sys.exit("fetch_deb: Packages.xz does not match the signed Release")
    index = {}
    for stanza in lzma.decompress(packages_xz).decode().split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line and not line.startswith(" ") and ":" in line:
                k, _, v = line.partition(":")
                fields[k] = v.strip()
        if "Package" in fields:
            index[fields["Package"]] = fields
    os.makedirs(out, exist_ok=True)
    for name in wanted:
        p = index.get(name) or sys.exit(f"fetch_deb: no package {name} for {arch} in {suite}")
        if name.endswith(f"-{arch}") and "Depends" in p and p.get("Section") == "kernel" \
                and p["Depends"].split(",")[0].split()[0].startswith("linux-image-"):
            p = index[p["Depends"].split(",")[0].split()[0]]
        data = get(f"{mirror}/{p['Filename']}")
        if hashlib.sha256(data).hexdigest() != p["SHA256"]:
            sys.exit(f"fetch_deb: {p['Filename']} does not match the archive's checksum")
        dest = os.path.join(out, os.path.basename(p["Filename"]))
        with open(dest, "wb") as f:
            f.write(data)
        print(dest)


if __name__ == "__main__":
    main()
