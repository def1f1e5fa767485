# What build_binaries.sh and build_patched.sh share, sourced by both after they have set
#   LOG_PREFIX      e.g. "[build_binaries]": the prefix of every progress line
#   KUBE_VERSION, KUBE_MAJOR, KUBE_MINOR (for kube_ldflags)
# It sets the Go environment (static binaries, -mod=mod, the local toolchain), NICE (the
# `nice` prefix, BUILD_NICE=0 disables it), log(), an ERR trap that reports the failing step,
# kube_ldflags, ensure_toolchain, and sources build_progress.sh (step_start, step_ok, step_skipped, heartbeat).

export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

NICE=()
if [[ "${BUILD_NICE:-10}" != "0" ]] && command -v nice >/dev/null; then
    NICE=(nice -n "${BUILD_NICE:-10}")
fi

CURRENT_STEP=preflight
STEP_START=$(date +%s)
log() { echo "$LOG_PREFIX $*"; }
on_error() {
    local rc=$?
    heartbeat_stop
    echo "$LOG_PREFIX step=$CURRENT_STEP FAILED rc=$rc after $(( $(date +%s) - STEP_START ))s" >&2
    exit "$rc"
}
trap on_error ERR

# The -ldflags of a Kubernetes command: stripped, with the version stamped as upstream's
# release builds do. kube_ldflags TREE_STATE (clean, or dirty for a patched source)
kube_ldflags() {
    local build_date pkg out="-s -w"
    build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        out+=" -X $pkg.gitVersion=$KUBE_VERSION"
        out+=" -X $pkg.gitMajor=$KUBE_MAJOR"
        out+=" -X $pkg.gitMinor=$KUBE_MINOR"
        out+=" -X $pkg.gitTreeState=$1"
        out+=" -X $pkg.buildDate=$build_date"
    done
    echo "$out"
}

# Toolchain taken through the Go module proxy when a go.mod needs a newer Go than the local one
# (v1.38 declares go 1.27.0); STS_PROPS_GOTOOLCHAIN overrides it.
FALLBACK_TOOLCHAIN=go1.27.3
# Go version needed by a go.mod file (its `go` line).
go_directive() { awk '$1 == "go" { print $2; exit }' "$1"; }
# version_lt A B: true when Go version A < B (both like 1.26.0).
version_lt() { [[ "$1" != "$2" && "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" == "$1" ]]; }
# Switch to the fallback toolchain when a go.mod needs a newer Go than the local one.
ensure_toolchain() { # ensure_toolchain GO_MOD_FILE WHAT
    local need have_v
    need="$(go_directive "$1")"
    have_v="$(go env GOVERSION)"; have_v="${have_v#go}"
    if [[ -n "$need" ]] && version_lt "$have_v" "$need"; then
        export GOTOOLCHAIN="${STS_PROPS_GOTOOLCHAIN:-$FALLBACK_TOOLCHAIN}"
        log "NOTE: $2 needs go $need > local go $have_v: using GOTOOLCHAIN=$GOTOOLCHAIN"
    else
        log "$2 needs go ${need:-?}; local go $have_v is enough"
    fi
}
# shellcheck source=build_progress.sh
source "$(dirname "${BASH_SOURCE[0]}")/build_progress.sh"
