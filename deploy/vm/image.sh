#!/bin/bash
# Builds the virtual Raspberry Pi's base image: Debian 12 arm64 as Raspberry Pi OS Lite is set up
# after its first boot (systemd, SSH, a first user `pi` with sudo and no password asked, no desktop),
# plus the libraries, fonts and tools the hall's packages ask apt for, so that installing them needs
# no network. Also Debian's arm64 kernel and a small initramfs for `qemu-system-aarch64 -M virt`.
#
#   deploy/vm/image.sh            # prints the cache folder holding the image; builds it if missing
#
# The result is cached in $HALLQ_VM_CACHE (default /var/cache/hallq-vm), under a name made from this
# recipe's own files, so a changed recipe builds a new image and an unchanged one is reused:
#   base-<recipe>/root.qcow2   the disk (guests boot copy-on-write overlays of it)
#   base-<recipe>/vmlinuz, initrd.gz, id_ed25519   kernel, initramfs, the `pi` user's SSH key
# Packages come from $HALLQ_VM_MIRROR (default http://deb.debian.org/debian), checked against the
# archive's signature (debootstrap and fetch_deb.py both use Debian's keyring).
# The packages are unpacked on this machine (debootstrap --foreign: nothing runs as arm64 here, and
# nothing of this machine is changed) and configured inside the guest on its first boot, under
# emulation of the Pi 4's Cortex-A72, with the packages' contents stored uncompressed beforehand
# (plain_debs.py) so that the emulated dpkg only copies them.
# Needs: debootstrap, qemu-system-arm, qemu-utils, e2fsprogs, kmod (depmod), gpgv, python3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${HALLQ_VM_CACHE:-/var/cache/hallq-vm}
mirror=${HALLQ_VM_MIRROR:-http://deb.debian.org/debian}
suite=bookworm

# What a Raspberry Pi OS Lite has that debootstrap's minimal base does not, and what the hall's
# packages depend on (their Depends, resolved from the archive when hallq-setup installs them; here
# already present so the guest needs no network to install).
packages=(
    systemd-sysv udev kmod dbus systemd-timesyncd iproute2 openssh-server sudo procps less
    ca-certificates openssl e2fsprogs
    sqlite3 fontconfig fonts-wqy-microhei libfontconfig1 libfreetype6 libinput10 libxkbcommon0
    libudev1 alsa-utils curl
)
modules=(virtio_pci virtio_blk ext4 crc32c_generic)

recipe=$(cat "$0" "$here/initramfs.py" "$here/fetch_deb.py" "$here/plain_debs.py" | sha256sum | cut -c1-16)
out="$cache/base-$recipe"
if [ -f "$out/root.qcow2" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.gz" ]; then
    echo "$out"
    exit 0
fi
for tool in debootstrap qemu-system-aarch64 qemu-img mkfs.ext4 depmod gpgv python3 ssh-keygen; do
    command -v "$tool" >/dev/null || { echo "image.sh: $tool is missing" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "image.sh: must run as root (debootstrap makes device files)" >&2; exit 1; }

build="$cache/build-$recipe"
# Builds of any recipe that did not finish are of no use.
rm -rf "$cache"/build-*
mkdir -p "$build"
log="$build/build.log"
echo "image.sh: building the base image in $build (log: $log)" >&2

echo "== debootstrap (first stage, unpacked here)" >&2
debootstrap --foreign --arch=arm64 --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
    "$suite" "$build/root" "$mirror" >>"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }

# dpkg unpacks these again in the second stage, under emulation, where xz costs minutes of CPU.
python3 "$here/plain_debs.py" "$build/root/var/cache/apt/archives" 2>>"$log"

echo "== kernel and initramfs" >&2
python3 "$here/fetch_deb.py" "$mirror" "$suite" arm64 "$build/debs" linux-image-arm64 busybox-static >>"$log"
dpkg-deb -x "$(ls "$build"/debs/linux-image-*.deb)" "$build/kernel"
dpkg-deb -x "$(ls "$build"/debs/busybox-static_*.deb)" "$build/busybox"
kver=$(ls "$build/kernel/lib/modules")
depmod -b "$build/kernel" "$kver"
python3 "$here/initramfs.py" "$build/initrd.gz" "$build/busybox/bin/busybox" \
    "$build/kernel/lib/modules/$kver" "$kver" "${modules[@]}"
cp "$build/kernel/boot/vmlinuz-$kver" "$build/vmlinuz"
# The guest's own kernel modules (graphics, input, sound, network), as a Pi has its kernel's.
mkdir -p "$build/root/lib/modules"
cp -a "$build/kernel/lib/modules/$kver" "$build/root/lib/modules/"

echo "== first-boot configuration" >&2
ssh-keygen -q -t ed25519 -N '' -C hallq-vm -f "$build/id_ed25519"
install -m 0644 "$build/id_ed25519.pub" "$build/root/root-authorized-key"
cat >"$build/root/hallq-firstboot" <<'FIRSTBOOT'
#!/bin/sh
# Runs once as the guest's init: finishes debootstrap, then sets the system up as Raspberry Pi OS
# Lite is after the imager's first boot, and switches the machine off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
set -e
mount -t proc proc /proc 2>/dev/null || true
mount -t sysfs sys /sys 2>/dev/null || true
off() { sync; echo o >/proc/sysrq-trigger; sleep 60; }
if ! /debootstrap/debootstrap --second-stage; then
    tail -30 /debootstrap/debootstrap.log 2>/dev/null || true
    echo HALLQ-FIRSTBOOT-FAILED
    off
fi
# Only for this build: dpkg's syncs cost minutes under emulation, and the image is synced once
# when the machine goes off.
rm -f /etc/dpkg/dpkg.cfg.d/hallq-image-build
mount -t proc proc /proc 2>/dev/null || true
echo hallq-pi >/etc/hostname
printf '127.0.0.1 localhost\n127.0.1.1 hallq-pi\n' >/etc/hosts
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' >/etc/fstab
mkdir -p /etc/systemd/network
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n' >/etc/systemd/network/20-wired.network
printf 'nameserver 10.0.2.3\n' >/etc/resolv.conf
systemctl enable systemd-networkd ssh systemd-timesyncd serial-getty@ttyAMA0
useradd -m -s /bin/bash -G sudo,video,audio,input pi
echo 'pi ALL=(ALL) NOPASSWD: ALL' >/etc/sudoers.d/010_pi-nopasswd
chmod 0440 /etc/sudoers.d/010_pi-nopasswd
install -d -m 0700 -o pi -g pi /home/pi/.ssh
install -m 0600 -o pi -g pi /root-authorized-key /home/pi/.ssh/authorized_keys
rm -f /root-authorized-key
echo 'PasswordAuthentication no' >/etc/ssh/sshd_config.d/hallq-vm.conf
ln -sf /usr/share/zoneinfo/Asia/Shanghai /etc/localtime
echo Asia/Shanghai >/etc/timezone
apt-get clean
rm -f /hallq-firstboot
sync
echo HALLQ-FIRSTBOOT-DONE
off
FIRSTBOOT
chmod 0755 "$build/root/hallq-firstboot"
mkdir -p "$build/root/etc/dpkg/dpkg.cfg.d"
echo force-unsafe-io >"$build/root/etc/dpkg/dpkg.cfg.d/hallq-image-build"
mkfs.ext4 -q -L hallq-root -d "$build/root" "$build/root.img" 4G >>"$log" 2>&1

echo "== first boot (debootstrap's second stage under emulation)" >&2
timeout 3600 qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 2048 -nographic -no-reboot \
    -kernel "$build/vmlinuz" -initrd "$build/initrd.gz" \
    -append "root=/dev/vda console=ttyAMA0 init=/hallq-firstboot panic=-1" \
    -drive "file=$build/root.img,format=raw,if=none,id=root,cache=unsafe" \
    -device virtio-blk-pci,drive=root -net none </dev/null >"$build/firstboot.log" 2>&1 || true
if ! grep -q HALLQ-FIRSTBOOT-DONE "$build/firstboot.log"; then
    tail -40 "$build/firstboot.log" >&2
    echo "image.sh: the first boot did not finish (log: $build/firstboot.log)" >&2
    exit 1
fi
sync "$build/root.img"
qemu-img convert -O qcow2 "$build/root.img" "$build/root.qcow2"
mkdir -p "$out.tmp"
mv "$build/root.qcow2" "$build/vmlinuz" "$build/initrd.gz" "$build/id_ed25519" "$build/id_ed25519.pub" "$out.tmp/"
rm -rf "$out" && mv "$out.tmp" "$out"
rm -rf "$build"
# Older recipes' images are of no more use.
find "$cache" -maxdepth 1 -name 'base-*' ! -name "base-$recipe" -exec rm -rf {} +
echo "$out"
