#!/bin/sh
# units/install-user.sh: create the qoestor user and folders on this host (make
# install as root, without DESTDIR). Uses systemd-sysusers and systemd-tmpfiles
# when present (the same files a package ships), else useradd and chown.
# Usage: units/install-user.sh SYSCONFDIR. Exit 0 ok, 1 failed.
set -eu
etc=$1
if command -v systemd-sysusers >/dev/null 2>&1; then
	systemd-sysusers "$etc/sysusers.d/qoestor.conf"
elif ! id qoestor >/dev/null 2>&1; then
	useradd --system --home-dir /var/lib/qoestor --no-create-home --shell /usr/sbin/nologin qoestor
fi
if command -v systemd-tmpfiles >/dev/null 2>&1; then
	systemd-tmpfiles --create "$etc/tmpfiles.d/qoestor.conf"
fi
chown -R qoestor:qoestor /var/lib/qoestor/db /var/qoestor/backend/dump /var/qoestor/backend/etc/db /var/log/qoestor
chown qoestor:qoestor /var/lib/qoestor
chgrp qoestor "$etc/qoestor/qoestor.yaml"
echo "install: user qoestor and its folders are ready"
