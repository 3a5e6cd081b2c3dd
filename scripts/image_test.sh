#!/usr/bin/env bash
# make image-test: builds the connector's image from ./Dockerfile with rootful podman and runs it against the
# sandbox (image_tests/test_image.py: spec, check with a good and a bad token, discover, read compared with the
# installed package).
#
# No registry is assumed reachable, so python:3.11-slim is replaced by a test-only base built here:
#   1. localhost/source-hubspot-test-debian:bookworm  debootstrap --variant=minbase bookworm, imported
#   2. localhost/source-hubspot-test-python:3.11      Debian's python3 (3.11) in a venv first on PATH with a
#                                                     current pip, so the Dockerfile's plain `pip install` works as
#                                                     on python:3.11-slim (Debian's own pip refuses, PEP 668), and
#                                                     the Python headers, which python:3.11-slim has too;
#                                                     plus the CA certificates this host trusts, so pip can reach
#                                                     PyPI through a TLS-intercepting proxy. Never in the shipped image.
# Both are reused while they exist (IMAGE_TEST_COLD=1 removes them and the built image first).
#
# Needs root and podman, runc and debootstrap (installed with apt-get when missing). Where that is impossible it
# prints one SKIPPED line and exits 0.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD
PYTHON=${IMAGE_TEST_PYTHON:-$REPO/.venv/bin/python}
VERSION=$(sed -n 's/^VERSION = "\(.*\)"$/\1/p' setup.py)
IMAGE=localhost/source-hubspot:${VERSION}
DEBIAN_IMAGE=localhost/source-hubspot-test-debian:bookworm
PYTHON_IMAGE=localhost/source-hubspot-test-python:3.11
SUITE=bookworm # Debian 12: python3 is 3.11, the Dockerfile's default base is python:3.11-slim
WORK=${IMAGE_TEST_WORKDIR:-${TMPDIR:-/tmp}/source-hubspot-image-test}

say() { echo "image-test: $*"; }
skip() {
    say "SKIPPED: $*"
    exit 0
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

STARTED=$(now)

[ "$(uname -s)" = Linux ] || skip "rootful podman needs Linux; this is $(uname -s)."
[ "$(id -u)" = 0 ] || skip "rootful podman needs root; this runs as uid $(id -u)."
[ -n "$VERSION" ] || { say "cannot read VERSION from setup.py" >&2; exit 1; }
[ -x "$PYTHON" ] || { say "no $PYTHON: run 'make install' first" >&2; exit 1; }

# --- tools -------------------------------------------------------------------------------------------------
missing=()
for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || skip "${missing[*]} missing and no apt-get to install them."
    say "installing ${missing[*]} with apt-get"
    t=$(now)
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends podman runc debootstrap >/dev/null
    say "apt-get took $(since "$t") s"
fi

# --- podman configuration ----------------------------------------------------------------------------------
mkdir -p "$WORK"
# podman's default ulimits (nofile 1048576) cannot be set without CAP_SYS_RESOURCE: use this shell's hard limit.
# crun fails on hybrid cgroups (v1 + unified): use runc.
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
cat >"$WORK/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF=$WORK/containers.conf
# Overlay on overlay (podman inside a container whose root is overlayfs) usually fails: use vfs there, in its own
# graph root so it never meets an overlay store. IMAGE_TEST_STORAGE_DRIVER=vfs|overlay forces either.
driver=${IMAGE_TEST_STORAGE_DRIVER:-}
if [ -z "$driver" ] && [ "$(stat -f -c %T /var/lib 2>/dev/null)" = overlayfs ]; then
    driver=vfs
fi
if [ "$driver" = vfs ]; then
    cat >"$WORK/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "/var/lib/containers/source-hubspot-vfs"
runroot = "/run/containers/source-hubspot-vfs"
EOF
    export CONTAINERS_STORAGE_CONF=$WORK/storage.conf
elif [ -n "$driver" ] && [ "$driver" != overlay ]; then
    say "IMAGE_TEST_STORAGE_DRIVER must be vfs or overlay, not $driver" >&2
    exit 1
fi
podman info --format '{{.Host.OCIRuntime.Name}} {{.Store.GraphDriverName}}' >"$WORK/podman-info" 2>"$WORK/podman-info.err" || {
    cat "$WORK/podman-info.err" >&2
    say "podman does not work here" >&2
    exit 1
}
say "podman $(podman --version | awk '{print $3}'), runtime and storage: $(cat "$WORK/podman-info")"

if [ "${IMAGE_TEST_COLD:-0}" = 1 ]; then
    say "cold run: removing $IMAGE, $PYTHON_IMAGE and $DEBIAN_IMAGE"
    for image in "$IMAGE" "$PYTHON_IMAGE" "$DEBIAN_IMAGE"; do
        if podman image exists "$image"; then podman rmi -f "$image" >/dev/null; fi
    done
fi

# --- 1. Debian base ----------------------------------------------------------------------------------------
# The Debian mirror apt uses on this host (one-line and deb822 sources), else deb.debian.org.
debian_mirror() {
    local files=() url
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    if [ ${#files[@]} -gt 0 ]; then
        url=$(awk '
            /^[[:space:]]*#/ { next }
            $1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|ftp):\/\//) { print $i; break } }
            $1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }
        ' "${files[@]}" | grep -E '^https?://[^ ]+/debian/?$' | head -n 1 || true)
    fi
    echo "${url:-http://deb.debian.org/debian}"
}

if podman image exists "$DEBIAN_IMAGE"; then
    say "reusing $DEBIAN_IMAGE"
else
    mirror=$(debian_mirror)
    # apt's proxy, if the host has one, for debootstrap's downloads.
    eval "$(apt-config shell APT_HTTP_PROXY Acquire::http::Proxy 2>/dev/null || true)"
    if [ -n "${APT_HTTP_PROXY:-}" ] && [ -z "${http_proxy:-}" ]; then export http_proxy=$APT_HTTP_PROXY; fi
    say "debootstrap --variant=minbase $SUITE from $mirror"
    t=$(now)
    rootfs=$(mktemp -d "$WORK/rootfs.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    if ! debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
        tail -n 30 "$WORK/debootstrap.log" >&2
        say "debootstrap failed (log: $WORK/debootstrap.log)" >&2
        exit 1
    fi
    # Slim it the way Debian's slim images are: no downloaded packages or lists, docs, man pages or translations,
    # now or in later installs; no recommended packages.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
    mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d" "$rootfs/etc/apt/apt.conf.d"
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
        >"$rootfs/etc/dpkg/dpkg.cfg.d/slim"
    echo 'APT::Install-Recommends "false";' >"$rootfs/etc/apt/apt.conf.d/90no-recommends"
    tar -C "$rootfs" -c . | podman import --quiet --message "debootstrap --variant=minbase $SUITE $mirror" - "$DEBIAN_IMAGE" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
    say "built $DEBIAN_IMAGE in $(since "$t") s"
fi

# --- 2. Python base standing in for python:3.11-slim -------------------------------------------------------
context=$WORK/python-base
rm -rf "$context"
mkdir -p "$context/ca"
touch "$context/ca/.keep"
# The extra CAs this host trusts (e.g. a TLS-intercepting proxy's), so pip inside the build can reach PyPI.
if [ -d /usr/local/share/ca-certificates ]; then
    find /usr/local/share/ca-certificates -type f -name '*.crt' -exec cp {} "$context/ca/" \;
fi
# The host pip's index, when it is a URL a container can reach too (local file:// indexes are not).
index_url=${PIP_INDEX_URL:-$("$PYTHON" -m pip config get global.index-url 2>/dev/null || true)}
pip_env=""
case "$index_url" in http://* | https://*) pip_env="PIP_INDEX_URL=$index_url" ;; esac
cat >"$context/Containerfile" <<EOF
# Test-only stand-in for python:3.11-slim, built by scripts/image_test.sh. Not for shipping.
FROM $DEBIAN_IMAGE
COPY ca/ /usr/local/share/ca-certificates/
RUN apt-get update \\
    && apt-get install -y --no-install-recommends ca-certificates python3 python3-venv libpython3-dev \\
    && update-ca-certificates \\
    && python3 -m venv /usr/local/python \\
    && /usr/local/python/bin/pip install --no-cache-dir --quiet --upgrade pip \\
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
ENV PATH=/usr/local/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    LANG=C.UTF-8 \\
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \\
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    PIP_DEFAULT_TIMEOUT=${PIP_DEFAULT_TIMEOUT:-120} ${pip_env}
EOF
# A changed Containerfile or CA set makes a new base; the same ones reuse the existing one.
base_hash=$( (cat "$context/Containerfile"; find "$context/ca" -type f -name '*.crt' -print0 | sort -z | xargs -0 -r cat) \
    | sha256sum | cut -c1-16)
existing_hash=""
if podman image exists "$PYTHON_IMAGE"; then
    existing_hash=$(podman image inspect "$PYTHON_IMAGE" --format '{{index .Labels "source-hubspot.test-base"}}')
fi
if [ "$existing_hash" = "$base_hash" ]; then
    say "reusing $PYTHON_IMAGE"
else
    t=$(now)
    if ! podman build --label "source-hubspot.test-base=$base_hash" -t "$PYTHON_IMAGE" -f "$context/Containerfile" \
        "$context" >"$WORK/python-base.log" 2>&1; then
        tail -n 40 "$WORK/python-base.log" >&2
        say "building $PYTHON_IMAGE failed (log: $WORK/python-base.log)" >&2
        exit 1
    fi
    say "built $PYTHON_IMAGE ($(podman run --rm --entrypoint python "$PYTHON_IMAGE" --version 2>&1)) in $(since "$t") s"
fi

# --- 3. the connector's image, from the shipped Dockerfile unchanged ---------------------------------------
t=$(now)
if ! podman build --build-arg "BASE_IMAGE=$PYTHON_IMAGE" -t "$IMAGE" . >"$WORK/build.log" 2>&1; then
    tail -n 60 "$WORK/build.log" >&2
    say "podman build failed (log: $WORK/build.log)" >&2
    exit 1
fi
cached=$(grep -c -- '--> Using cache' "$WORK/build.log" || true)
say "built $IMAGE in $(since "$t") s ($cached cached steps)"
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
base_size=$(podman image inspect "$PYTHON_IMAGE" --format '{{.Size}}')
say "image size: $((size / 1000000)) MB ($((size / 1048576)) MiB; the test base is $((base_size / 1000000)) MB, so the connector adds $(((size - base_size) / 1000000)) MB)"
podman images --filter "reference=$IMAGE" --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}' | sed 's/^/image-test: /'

# --- 4. run it against the sandbox -------------------------------------------------------------------------
t=$(now)
SOURCE_HUBSPOT_IMAGE=$IMAGE PODMAN=podman "$PYTHON" -m pytest image_tests -q -p no:cacheprovider -s -rs
say "tests took $(since "$t") s"
say "total $(since "$STARTED") s"
