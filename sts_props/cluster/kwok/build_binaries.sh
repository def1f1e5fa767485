#!/usr/bin/env bash
# Build (or reuse) the binaries of a local kwok control plane from Go modules.
#
# Usage:
#   build_binaries.sh KUBE_VERSION [CACHE_DIR]
#   build_binaries.sh v1.37.2 "${STS_PROPS_CACHE:-$HOME/.cache/sts-props}"
#   build_binaries.sh v1.38.0-beta.0    (a pre-release: its staging modules are v0.38.0-beta.0)
#
# Output: $CACHE_DIR/k8s-$KUBE_VERSION/bin/ with
#   kube-apiserver kube-controller-manager kube-scheduler kubectl   (one `go build`)
#   etcd                                                            (go.etcd.io/etcd/server/v3)
#   kwok kwokctl                                                    (sigs.k8s.io/kwok)
#
# Idempotent: a binary is rebuilt only when it or its stamp file
# (bin/.<name>.stamp, written after a successful build) is missing. A second
# run with everything cached does no Go work at all. Changing ETCD_VERSION or
# KWOK_VERSION does not rebuild an existing binary: delete it first. Concurrent
# runs on one cache directory serialise on $CACHE_DIR/k8s-$KUBE_VERSION/.build.lock.
#
# Environment overrides:
#   ETCD_VERSION      etcd server module version (default: 3.7.x for k8s 1.37+, 3.6.x below)
#   KWOK_VERSION      sigs.k8s.io/kwok version (default v0.8.0)
#   BUILD_NICE        niceness of the Go commands (default 10; 0 disables `nice`)
#   STS_PROPS_GOTOOLCHAIN  toolchain to use when a module needs a Go newer than the local one
#                     (default go1.27.3, fetched through the Go module proxy)
#
# Progress protocol (parsed by sts_props/cluster/binaries.py), one line each on stdout:
#   [build_binaries] step=<name> start ...
#   [build_binaries] step=<name> skip ...
#   [build_binaries] step=<name> ok <seconds>s
#   [build_binaries] step=<name> FAILED rc=<rc> after <seconds>s     (on stderr)
#   [build_binaries] done ...
set -euo pipefail

DEFAULT_KWOK_VERSION=v0.8.0
DEFAULT_ETCD_36=v3.6.16
DEFAULT_ETCD_37=v3.7.3

if [[ $# -lt 1 || $# -gt 2 || "$1" == "-h" || "$1" == "--help" ]]; then
    sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'
    [[ $# -ge 1 && ( "$1" == "-h" || "$1" == "--help" ) ]] && exit 0
    exit 2
fi

KUBE_VERSION="$1"
CACHE_DIR="${2:-${STS_PROPS_CACHE:-$HOME/.cache/sts-props}}"
[[ "$KUBE_VERSION" == v* ]] || KUBE_VERSION="v$KUBE_VERSION"
# a release (v1.37.2) or a pre-release (v1.38.0-beta.0, -alpha.N, -rc.N)
if [[ ! "$KUBE_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)(-(alpha|beta|rc)\.[0-9]+)?$ ]]; then
    echo "[build_binaries] KUBE_VERSION must look like v1.37.2 or v1.38.0-beta.0, got '$KUBE_VERSION'" >&2
    exit 2
fi
KUBE_MAJOR=1
KUBE_MINOR="${BASH_REMATCH[1]}"
KUBE_PATCH="${BASH_REMATCH[2]}"
# the staging modules (k8s.io/api, ...) are tagged v0.MINOR.PATCH with the same pre-release suffix
STAGING_VERSION="v0.${KUBE_MINOR}.${KUBE_PATCH}${BASH_REMATCH[3]}"

if [[ -z "${ETCD_VERSION:-}" ]]; then
    if (( KUBE_MINOR >= 37 )); then ETCD_VERSION=$DEFAULT_ETCD_37; else ETCD_VERSION=$DEFAULT_ETCD_36; fi
fi
KWOK_VERSION="${KWOK_VERSION:-$DEFAULT_KWOK_VERSION}"

ROOT="$CACHE_DIR/k8s-$KUBE_VERSION"
BIN="$ROOT/bin"
SRC="$ROOT/src"
mkdir -p "$BIN" "$SRC"
ROOT="$(cd "$ROOT" && pwd)"
BIN="$ROOT/bin"
SRC="$ROOT/src"

LOG_PREFIX="[build_binaries]"
# Go environment, NICE, log(), the ERR trap, kube_ldflags and the step progress.
# shellcheck source=build_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/build_common.sh"
have() { [[ -x "$BIN/$1" && -f "$BIN/.$1.stamp" ]]; }
stamp() { # stamp NAME VERSION
    printf 'name=%s\nversion=%s\nbuilt=%s\ngo=%s\n' "$1" "$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        "$(go env GOVERSION)" >"$BIN/.$1.stamp"
}
# Copy NAME at VERSION from another version's cache directory (etcd and kwok do not
# depend on the Kubernetes version, and building kwok alone takes minutes).
reuse_sibling() { # reuse_sibling NAME VERSION
    local other
    for other in "$CACHE_DIR"/k8s-*/bin; do
        [[ "$other" -ef "$BIN" ]] && continue
        if [[ -x "$other/$1" ]] && grep -qx "version=$2" "$other/.$1.stamp" 2>/dev/null; then
            cp -f "$other/$1" "$BIN/$1.tmp" && mv -f "$BIN/$1.tmp" "$BIN/$1"
            cp -f "$other/.$1.stamp" "$BIN/.$1.stamp"
            log "step=$1 reuse $2 from $other"
            step_skipped "$1"
            return 0
        fi
    done
    return 1
}
# Path of the cached .mod file of module@version (downloads it if needed).
mod_file() {
    local out gomod
    if ! out="$("${NICE[@]}" go mod download -json "$1" 2>&1)"; then
        # A module that needs a newer Go fails here ("requires go >= 1.27.0") after its
        # go.mod was fetched: return that file, and ensure_toolchain reads its go line.
        gomod="$(printf '%s\n' "$out" | awk -F'"' '$2 == "GoMod" { print $4 }')"
        if [[ "$out" == *"requires go "* && -f "$gomod" ]]; then
            printf '%s\n' "$gomod"
            return 0
        fi
        printf 'go mod download %s failed:\n%s\n' "$1" "$out" >&2
        return 1
    fi
    printf '%s\n' "$out" | awk -F'"' '$2 == "GoMod" { print $4 }'
}

TOTAL_START=$(date +%s)

# One build per cache directory at a time (parallel test workers may all ask for it);
# a waiting run finds the binaries built by the first one and skips every step.
if command -v flock >/dev/null; then
    exec 9>"$ROOT/.build.lock"
    if ! flock -n 9; then
        log "waiting for another build in $ROOT"
        flock 9
    fi
fi
log "kube=$KUBE_VERSION etcd=$ETCD_VERSION kwok=$KWOK_VERSION out=$BIN go=$(go env GOVERSION) cores=$(nproc)"

# --- 1. kube-apiserver, kube-controller-manager, kube-scheduler, kubectl --------------
KUBE_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
missing=()
for b in "${KUBE_BINS[@]}"; do have "$b" || missing+=("$b"); done
if (( ${#missing[@]} == 0 )); then
    log "step=kubernetes skip (all of ${KUBE_BINS[*]} present)"
    step_skipped kubernetes
else
    step_start kubernetes-gomod "k8s.io/kubernetes@$KUBE_VERSION"
    # Download outside any module (GOFLAGS emptied: -mod=mod is refused there).
    wrap="$SRC/kubernetes"
    mkdir -p "$wrap"
    kmod="$(cd "$SRC" && GOFLAGS='' mod_file "k8s.io/kubernetes@$KUBE_VERSION")"
    [[ -f "$kmod" ]] || { echo "no go.mod found for k8s.io/kubernetes@$KUBE_VERSION" >&2; false; }
    ensure_toolchain "$kmod" "k8s.io/kubernetes@$KUBE_VERSION"
    staging=()
    while IFS= read -r m; do staging+=("$m"); done < <(
        sed -nE 's#^[[:space:]]*(replace[[:space:]]+)?(k8s\.io/[A-Za-z0-9._-]+)[[:space:]]+=>[[:space:]]+\./staging/src/k8s\.io/.*#\2#p' "$kmod")
    (( ${#staging[@]} > 0 )) || { echo "no staging replaces found in $kmod" >&2; false; }
    {
        echo "// Generated by build_binaries.sh: builds k8s.io/kubernetes $KUBE_VERSION commands."
        echo "module sts-props.local/kubernetes-build"
        echo
        echo "go $(go_directive "$kmod")"
        echo
        # Keep upstream's GODEBUG defaults (e.g. `godebug default=go1.26`): they are
        # taken from the main module only.
        grep -E '^godebug[[:space:]]' "$kmod" || true
        echo
        echo "require k8s.io/kubernetes $KUBE_VERSION"
        echo
        echo "replace ("
        for m in "${staging[@]}"; do echo "	$m => $m $STAGING_VERSION"; done
        echo ")"
    } >"$wrap/go.mod.new"
    if ! cmp -s "$wrap/go.mod.new" "$wrap/go.mod.in" 2>/dev/null; then
        # Template changed (or first run): start from a fresh go.mod/go.sum.
        cp "$wrap/go.mod.new" "$wrap/go.mod.in"
        cp "$wrap/go.mod.new" "$wrap/go.mod"
        rm -f "$wrap/go.sum"
    fi
    rm -f "$wrap/go.mod.new"
    log "wrapper module $wrap/go.mod: ${#staging[@]} staging replaces -> $STAGING_VERSION"
    step_ok

    step_start kubernetes "go build ${missing[*]}"
    ldflags="$(kube_ldflags clean)"
    pkgs=()
    for b in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
    tmp_out="$ROOT/tmp-kubernetes"
    rm -rf "$tmp_out"; mkdir -p "$tmp_out"
    (cd "$wrap" && "${NICE[@]}" go build -trimpath -ldflags "$ldflags" -o "$tmp_out/" "${pkgs[@]}")
    for b in "${missing[@]}"; do
        mv -f "$tmp_out/$b" "$BIN/$b"
        stamp "$b" "$KUBE_VERSION"
    done
    rm -rf "$tmp_out"
    step_ok
fi

# --- 2. etcd ----------------------------------------------------------------------------
if have etcd; then
    log "step=etcd skip (present)"
    step_skipped etcd
elif reuse_sibling etcd "$ETCD_VERSION"; then
    :
else
    step_start etcd "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    wrap="$SRC/etcd"
    rm -rf "$wrap"; mkdir -p "$wrap"
    emod="$(cd "$SRC" && GOFLAGS='' mod_file "go.etcd.io/etcd/server/v3@$ETCD_VERSION")"
    ensure_toolchain "$emod" "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    printf '// Generated by build_binaries.sh: builds the etcd server.\nmodule sts-props.local/etcd-build\n\ngo %s\n' \
        "$(go_directive "$emod")" >"$wrap/go.mod"
    tmp_out="$ROOT/tmp-etcd"
    rm -rf "$tmp_out"; mkdir -p "$tmp_out"
    (
        cd "$wrap"
        "${NICE[@]}" go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
        "${NICE[@]}" go build -trimpath -ldflags "-s -w" -o "$tmp_out/etcd" go.etcd.io/etcd/server/v3
    )
    mv -f "$tmp_out/etcd" "$BIN/etcd"
    rm -rf "$tmp_out"
    stamp etcd "$ETCD_VERSION"
    step_ok
fi

# --- 3. kwok, kwokctl -------------------------------------------------------------------
missing=()
for b in kwok kwokctl; do have "$b" || reuse_sibling "$b" "$KWOK_VERSION" || missing+=("$b"); done
if (( ${#missing[@]} == 0 )); then
    log "step=kwok skip (kwok, kwokctl present)"
    step_skipped kwok
else
    step_start kwok "sigs.k8s.io/kwok@$KWOK_VERSION: ${missing[*]}"
    kwmod="$(cd "$SRC" && GOFLAGS='' mod_file "sigs.k8s.io/kwok@$KWOK_VERSION")"
    ensure_toolchain "$kwmod" "sigs.k8s.io/kwok@$KWOK_VERSION"
    tmp_out="$ROOT/tmp-kwok"
    rm -rf "$tmp_out"; mkdir -p "$tmp_out"
    pkgs=()
    for b in "${missing[@]}"; do pkgs+=("sigs.k8s.io/kwok/cmd/$b@$KWOK_VERSION"); done
    # `go install pkg@version` ignores the current module; -mod=mod is not allowed there.
    (cd "$SRC" && GOFLAGS='' GOBIN="$tmp_out" "${NICE[@]}" go install -trimpath -ldflags "-s -w" "${pkgs[@]}")
    for b in "${missing[@]}"; do
        mv -f "$tmp_out/$b" "$BIN/$b"
        stamp "$b" "$KWOK_VERSION"
    done
    rm -rf "$tmp_out"
    step_ok
fi

CURRENT_STEP="done"
log "step times: ${STEP_TIMES:-nothing to do}"
log "done in $(( $(date +%s) - TOTAL_START ))s: $BIN"
for b in "${KUBE_BINS[@]}" etcd kwok kwokctl; do
    log "  $(du -h "$BIN/$b" | cut -f1)	$BIN/$b"
done
