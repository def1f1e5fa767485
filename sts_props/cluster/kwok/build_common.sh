# What build_binaries.sh and build_patched.sh share, sourced by both after they have set
#   LOG_PREFIX      e.g. "[build_binaries]": the prefix of every progress line
#   KUBE_VERSION, KUBE_MAJOR, KUBE_MINOR (for kube_ldflags)
# It sets the Go environment (static binaries, -mod=mod, the local toolchain), NICE (the
# `nice` prefix, BUILD_NICE=0 disables it), log(), an ERR trap that reports the failing step,
# kube_ldflags, and sources build_progress.sh (step_start, step_ok, step_skipped, heartbeat).

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

# shellcheck source=build_progress.sh
source "$(dirname "${BASH_SOURCE[0]}")/build_progress.sh"
