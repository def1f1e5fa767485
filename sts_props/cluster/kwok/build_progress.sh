# Progress of a long build, sourced through build_common.sh by build_binaries.sh and
# build_patched.sh (and by tests/test_build_progress.py).
#   step_start NAME WHAT...   logs "step=NAME start WHAT" and starts the heartbeat
#   step_ok                   stops the heartbeat, logs "step=NAME ok Ns", records the time
#   step_skipped NAME         records NAME as cached in the per-step times
#   $STEP_TIMES               "kubernetes 812s, etcd cached, ..." for the closing line
# The caller defines log() and keeps CURRENT_STEP/STEP_START; nothing here exits on error.
# A Go build of kube-apiserver & co. prints nothing for minutes; every HEARTBEAT seconds a
# background loop says which step runs, for how long, and what the toolchain is doing now
# (the packages being compiled, the binary being linked), read from our own process group.
HEARTBEAT=${STS_PROPS_BUILD_HEARTBEAT:-30}
HEARTBEAT_PID=""
STEP_TIMES=""
toolchain_activity() {
    local pgid
    pgid=$(ps -o pgid= -p $$ | tr -d ' ')
    { pgrep -a -g "$pgid" 2>/dev/null || true; } | awk '
        # pgrep -a gives "PID ARGS..."; the Go tools are .../compile (with -p IMPORTPATH) and
        # .../link, as the first argument (or the second, behind an interpreter)
        { t = ($2 ~ /\/(compile|link)$/) ? 2 : (($3 ~ /\/(compile|link)$/) ? 3 : 0)
          if (t && $t ~ /link$/) nl++
          else if (t) for (i = t + 1; i < NF; i++) if ($i == "-p") { c[++nc] = $(i + 1); break } }
        END { if (nl) print "linking " nl " binar" (nl > 1 ? "ies" : "y")
              else if (nc) print "compiling " c[1] (nc > 1 ? " (+" nc - 1 " more)" : "")
              else print "go is resolving, downloading or caching" }'
}
heartbeat_stop() {
    if [[ -n "$HEARTBEAT_PID" ]]; then kill "$HEARTBEAT_PID" 2>/dev/null || true; fi
    HEARTBEAT_PID=""
}
heartbeat_start() {
    heartbeat_stop
    (
        # one-second sleeps: a stopped heartbeat leaves no sleep behind for long
        n=0
        while sleep 1; do
            n=$((n + 1))
            (( n % HEARTBEAT == 0 )) || continue
            log "step=$CURRENT_STEP running $(( $(date +%s) - STEP_START ))s: $(toolchain_activity)"
        done
    ) &
    HEARTBEAT_PID=$!
}
trap heartbeat_stop EXIT
step_start() {
    CURRENT_STEP="$1"; STEP_START=$(date +%s); shift
    log "step=$CURRENT_STEP start $*"
    heartbeat_start
}
step_ok() {
    heartbeat_stop
    local took=$(( $(date +%s) - STEP_START ))
    STEP_TIMES+="${STEP_TIMES:+, }$CURRENT_STEP ${took}s"
    log "step=$CURRENT_STEP ok ${took}s"
}
step_skipped() { STEP_TIMES+="${STEP_TIMES:+, }$1 cached"; }
