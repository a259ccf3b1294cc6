#!/usr/bin/env python3
"""Writes the virtual Pi's small initramfs: a static busybox, the kernel modules the root disk needs,
and an /init that loads them, mounts /dev/vda and hands over to the real system's init.

    initramfs.py OUT.cpio.gz BUSYBOX MODULES_DIR KERNEL_VERSION MODULE [MODULE ...]

MODULES_DIR is the unpacked kernel's lib/modules/KERNEL_VERSION with a modules.dep made by the
host's depmod; the modules named and everything they depend on go in.
"""
import gzip
import os
import stat
import sys

INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod /lib/modules/$m 2>/dev/null; done
root=/dev/vda
init=/sbin/init
for arg in $(cat /proc/cmdline); do
  case "$arg" in root=*) root="${arg#root=}" ;; init=*) init="${arg#init=}" ;; esac
done
i=0
while [ ! -b "$root" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mount -o rw "$root" /newroot || { echo "initramfs: cannot mount $root"; exec sh; }
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot "$init"
"""


class Cpio:
    def __init__(self):
        self.out = bytearray()
        self.ino = 1

    def add(self, name, mode, data=b""):
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0]
        self.ino += 1
        self.out += b"070701" + b"".join(b"%08X" % f for f in fields) + name_b
        self.out += b"\0" * (-len(self.out) % 4)
        self.out += data
        self.out += b"\0" * (-len(self.out) % 4)

    def dir(self, name):
        self.add(name, stat.S_IFDIR | 0o755)

    def file(self, name, data, perm=0o644):
        self.add(name, stat.S_IFREG | perm, data)

    def finish(self):
        self.add("TRAILER!!!", 0)
        return bytes(self.out)


def main():
    out, busybox, mod_dir, _kver, *wanted = sys.argv[1:]
    deps = {}
    with open(os.path.join(mod_dir, "modules.dep")) as f:
        for line in f:
            path, _, rest = line.partition(":")
            deps[path] = rest.split()
    by_name = {os.path.basename(p).split(".ko")[0].replace("-", "_"): p for p in deps}
    order = []

    def visit(path):
        if path in order:
            return
        for d in deps[path]:
            visit(d)
        order.append(path)

    for name in wanted:
        key = name.replace("-", "_")
        if key not in by_name:
            continue  # built into the kernel
        visit(by_name[key])
    c = Cpio()
    for d in ["bin", "dev", "proc", "sys", "newroot", "lib", "lib/modules"]:
        c.dir(d)
    with open(busybox, "rb") as f:
        c.file("bin/busybox", f.read(), 0o755)
    c.file("init", INIT.encode(), 0o755)
    names = []
    for path in order:
        flat = os.path.basename(path)
        with open(os.path.join(mod_dir, path), "rb") as f:
            c.file("lib/modules/" + flat, f.read())
        names.append(flat)
    c.file("modules.order", ("\n".join(names) + "\n").encode())
    with gzip.open(out, "wb") as f:
        f.write(c.finish())


if __name__ == "__main__":
    main()
