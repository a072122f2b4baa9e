#!/bin/sh
# A real website on loopback: Debian's python3-doc HTML served by nginx.
#
#   scripts/validation/site.sh start     install what is missing, start nginx (idempotent)
#   scripts/validation/site.sh stop      stop the nginx this script started
#   scripts/validation/site.sh status    running or not, its URL, the page count
#
# Packages are installed with apt-get when missing (nginx, python3-doc; that needs root or
# sudo; nothing else is downloaded). nginx runs as the calling user with every file it writes
# (configuration, pid, logs, temporary directories) under $STATE (default
# target/validation/site in the repository). It binds 127.0.0.1:$SITE_PORT (default 8090).
# The first line `start` and `status` print on stdout is the site's URL.
#
# Environment: SITE_PORT, STATE (state directory), SITE_ROOT (the HTML tree to serve; default
# the python3-doc tree).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
STATE=${STATE:-$repo/target/validation/site}
SITE_PORT=${SITE_PORT:-8090}
NGINX=${NGINX:-/usr/sbin/nginx}
conf=$STATE/nginx.conf
pidfile=$STATE/nginx.pid

die() {
    echo "site.sh: $*" >&2
    exit 2
}

doc_root() {
    if [ -n "${SITE_ROOT:-}" ]; then
        echo "$SITE_ROOT"
        return
    fi
    # python3-doc links /usr/share/doc/python3-doc/html to the versioned tree.
    if [ -e /usr/share/doc/python3-doc/html/index.html ]; then
        readlink -f /usr/share/doc/python3-doc/html
    fi
}

install_missing() {
    missing=""
    [ -x "$NGINX" ] || missing="$missing nginx"
    [ -n "$(doc_root)" ] || missing="$missing python3-doc"
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" = 0 ]; then
        sudo=""
    elif command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        die "missing packages:$missing; install them with: apt-get install --no-install-recommends$missing"
    fi
    echo "site.sh: installing$missing with apt-get" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2 ||
        die "apt-get install$missing failed (try: apt-get update first)"
    [ -x "$NGINX" ] || die "$NGINX is still missing after installing nginx"
    [ -n "$(doc_root)" ] || die "no python3-doc HTML tree after installing python3-doc"
}

running_pid() {
    [ -f "$pidfile" ] || return 1
    pid=$(cat "$pidfile" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

write_conf() {
    root=$1
    mkdir -p "$STATE/tmp"
    # `user` only matters when started as root: keep the workers unprivileged.
    user_line=""
    [ "$(id -u)" = 0 ] && user_line="user nobody nogroup;"
    cat >"$conf.tmp" <<EOF
# Written by scripts/validation/site.sh; every path is under $STATE.
$user_line
worker_processes 1;
pid $pidfile;
error_log $STATE/error.log warn;
daemon on;
events { worker_connections 512; }
http {
    types {
        text/html html htm;
        text/css css;
        application/javascript js;
        text/plain txt py rst;
        image/png png;
        image/svg+xml svg;
        application/json json;
    }
    default_type application/octet-stream;
    access_log $STATE/access.log;
    client_body_temp_path $STATE/tmp/body;
    proxy_temp_path $STATE/tmp/proxy;
    fastcgi_temp_path $STATE/tmp/fastcgi;
    uwsgi_temp_path $STATE/tmp/uwsgi;
    scgi_temp_path $STATE/tmp/scgi;
    sendfile on;
    gzip off;
    absolute_redirect off;
    server_tokens off;
    server {
        listen 127.0.0.1:$SITE_PORT;
        root $root;
        index index.html;
        location / { try_files \$uri \$uri/ =404; }
    }
}
EOF
    mv "$conf.tmp" "$conf"
}

pages() {
    find "$1" -name '*.html' | wc -l | tr -d ' '
}

status() {
    if pid=$(running_pid); then
        echo "http://127.0.0.1:$(sed -n 's/.*listen 127.0.0.1:\([0-9]*\);/\1/p' "$conf")/"
        echo "site.sh: nginx running (pid $pid), serving $(sed -n 's/^ *root \(.*\);/\1/p' "$conf") ($(pages "$(sed -n 's/^ *root \(.*\);/\1/p' "$conf")") HTML files), state in $STATE" >&2
        return 0
    fi
    echo "site.sh: not running (state in $STATE)" >&2
    return 3
}

case "${1:-}" in
start)
    if running_pid >/dev/null; then
        status
        exit 0
    fi
    install_missing
    root=$(doc_root)
    [ -n "$root" ] && [ -d "$root" ] || die "no HTML tree to serve (SITE_ROOT=${SITE_ROOT:-})"
    mkdir -p "$STATE"
    write_conf "$root"
    "$NGINX" -p "$STATE" -c "$conf" -e "$STATE/error.log" -t -q ||
        die "nginx rejected $conf (see above)"
    "$NGINX" -p "$STATE" -c "$conf" -e "$STATE/error.log" ||
        die "nginx did not start; see $STATE/error.log (is port $SITE_PORT taken? set SITE_PORT)"
    i=0
    while ! running_pid >/dev/null; do
        i=$((i + 1))
        [ $i -le 50 ] || die "nginx wrote no pid file within 5 s; see $STATE/error.log"
        sleep 0.1
    done
    status
    ;;
stop)
    if pid=$(running_pid); then
        kill -QUIT "$pid"
        i=0
        while kill -0 "$pid" 2>/dev/null; do
            i=$((i + 1))
            [ $i -le 100 ] || die "nginx (pid $pid) did not stop within 10 s"
            sleep 0.1
        done
        echo "site.sh: stopped nginx (pid $pid)" >&2
    else
        echo "site.sh: not running" >&2
    fi
    rm -f "$pidfile"
    ;;
status)
    status
    ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
