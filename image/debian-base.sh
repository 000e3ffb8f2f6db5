#!/usr/bin/env bash
# A local stand-in for python:3.11-slim where Docker Hub is out of reach: Debian bookworm made
# by debootstrap from Debian's mirror (its python3 is CPython 3.11), committed as an image with
# buildah. `make image BASE=<the name printed>` builds the Dockerfile on it.
#
#   image/debian-base.sh [NAME]     (root; NAME defaults to localhost/argosy-base:bookworm)
#
# buildah's storage is the environment's, as for `make image` (.ci/image: STORAGE_DRIVER=vfs).
# The root filesystem is cached in $ARGOSY_IMAGE_CACHE (default ~/.cache/argosy-image) and
# the image is made only when absent, so a second run returns at once.
# The machine's own extra CA certificates (/usr/local/share/ca-certificates, e.g. a
# TLS-intercepting egress proxy's) are trusted in the base too, pip included: the build's
# `pip install` goes through the same network as this machine's.
set -euo pipefail
NAME=${1:-localhost/argosy-base:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${ARGOSY_IMAGE_CACHE:-$HOME/.cache/argosy-image}
ROOTFS=$CACHE/rootfs-bookworm

if buildah inspect --type image "$NAME" >/dev/null 2>&1; then
  echo "$NAME"
  exit 0
fi
if [ ! -f "$ROOTFS/.complete" ]; then
  rm -rf "$ROOTFS.tmp"
  mkdir -p "$CACHE"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$ROOTFS.tmp" "$MIRROR" >&2
  rm -rf "$ROOTFS.tmp"/var/cache/apt/archives/*.deb "$ROOTFS.tmp"/var/lib/apt/lists/*
  shopt -s nullglob
  extra=(/usr/local/share/ca-certificates/*.crt)
  if [ ${#extra[@]} -gt 0 ]; then
    cp "${extra[@]}" "$ROOTFS.tmp/usr/local/share/ca-certificates/"
    chroot "$ROOTFS.tmp" update-ca-certificates >&2
    # Debian's pip trusts its own certifi bundle, not the system's, unless told.
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$ROOTFS.tmp/etc/pip.conf"
  fi
  touch "$ROOTFS.tmp/.complete"
  rm -rf "$ROOTFS"
  mv "$ROOTFS.tmp" "$ROOTFS"
fi
ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
mnt=$(buildah mount "$ctr")
cp -a "$ROOTFS"/. "$mnt"/
rm -f "$mnt/.complete"
buildah umount "$ctr" >/dev/null
buildah config --env LANG=C.UTF-8 \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --cmd python3 "$ctr"
buildah commit --quiet "$ctr" "$NAME" >/dev/null
echo "$NAME"
