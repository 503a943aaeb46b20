#!/usr/bin/env bash
# Turns a debootstrap minbase root file system into the sandbox base image's contents.
# Usage: customize.sh ROOTFS. Runs on the host, as root, with chroot.
set -euo pipefail
R=$1
# Agent commands run as uid 1000; the container's init runs as 1001, so `kill -KILL -1` as the
# agent kills every agent process and leaves init (and the container) alive.
chroot "$R" useradd -m -u 1000 -U -s /bin/bash agent
chroot "$R" groupadd -g 1001 sbxinit
chroot "$R" useradd -M -u 1001 -g 1001 -s /usr/sbin/nologin sbxinit
mkdir -p "$R/work" "$R/testbed"
chown 1000:1000 "$R/work" "$R/testbed"
# Repositories are bind-mounted from the host and may belong to another uid.
printf '[safe]\n\tdirectory = *\n[user]\n\tname = agent\n\temail = agent@sandbox\n' >"$R/etc/gitconfig"
rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/* \
       "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/locale/* "$R"/usr/share/info/*
