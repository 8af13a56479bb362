#!/usr/bin/env bash
# Builds a minimal Debian bookworm Docker image with python3 + ipykernel from Debian packages
# (debootstrap + docker import: works without any registry) and prints its tag on stdout:
#   image=$(scripts/docker-base-image.sh)
# Cached: the tag carries a hash of this script, so editing the script rebuilds. Also tagged :latest.
set -euo pipefail
hash=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
tag="nbw-test/python:bookworm-$hash"
built() { docker image inspect "$tag" >/dev/null 2>&1; }
if built; then echo "$tag"; exit 0; fi

# One builder at a time; whoever waited re-checks the cache once the lock is free.
exec 9>/var/tmp/nbw-docker-base-image.lock
flock 9
if built; then echo "$tag"; exit 0; fi
exec 3>&1 1>&2 # only the tag goes to stdout (fd 3); progress to stderr

if ! command -v debootstrap >/dev/null; then
  echo "installing debootstrap"
  # A fresh machine may have no package lists yet: update and retry once.
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq debootstrap >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq debootstrap >/dev/null; }
fi
# Use the host's Debian mirror (first non-comment .../debian URI), else deb.debian.org.
mirror=$(grep -rhsE '^[^#]*https?://' /etc/apt/sources.list /etc/apt/sources.list.d/ \
  | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -n1 | tr -d ' ' || true)
mirror=${mirror:-http://deb.debian.org/debian}

tmp=$(mktemp -d /var/tmp/nbw-docker-base.XXXXXX)
root="$tmp/rootfs"
cleanup() {
  umount -l "$root/proc" 2>/dev/null || true
  # Never rm -rf through a mount that is still attached.
  if ! grep -q " $tmp/" /proc/mounts; then rm -rf "$tmp"; fi
}
trap cleanup EXIT

echo "debootstrap bookworm from $mirror"
# python3 only: with --include=python3-ipykernel debootstrap cannot resolve the virtual
# packages python3-zmq depends on, so ipykernel goes in with apt below.
debootstrap --variant=minbase --include=python3 bookworm "$root" "$mirror" >"$tmp/debootstrap.log" 2>&1 \
  || { tail -n 30 "$tmp/debootstrap.log"; exit 1; }

# Like the official slim images: dpkg skips docs, man pages and translations.
cat >"$root/etc/dpkg/dpkg.cfg.d/nbw-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
rm -rf "$root"/usr/share/{man,info,locale}/*
# Images get apt from deb.debian.org, whatever mirror the host uses.
echo "deb http://deb.debian.org/debian bookworm main" >"$root/etc/apt/sources.list"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
# No /dev/pts in the chroot: Use-Pty=0 keeps dpkg from asking for one.
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
echo "apt-get install python3-ipykernel"
in_root apt-get update -qq
in_root apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends python3-ipykernel >/dev/null
in_root apt-get clean
umount "$root/proc"
# Small image: no apt lists/caches, logs; Docker provides resolv.conf and hostname.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/tmp/*
find "$root/var/log" -type f -delete
: >"$root/etc/resolv.conf"

echo "docker import $tag"
tar -C "$root" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'WORKDIR /' \
  --change 'CMD ["python3"]' - "$tag" >/dev/null
docker tag "$tag" nbw-test/python:latest
echo "$tag" >&3
