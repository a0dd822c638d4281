# Reading the machine console's log (scripts/run's output) the way the multiplexer wrote it
# (common/console.hpp): with several LPARs every LPAR line starts with `[name] `, and a line of
# one LPAR may be broken by another LPAR's line and continued, named again, after it.

# console_saw LOG TEXT [LPAR] : true when TEXT appears in what one LPAR wrote (LPAR: that one;
# without LPAR: any, or the unnamed lines), its lines joined so that a broken line is whole again.
# With CONSOLE_FROM=N in the environment, only the log after its first N bytes counts.
console_saw() {
    tail -c +$((${CONSOLE_FROM:-0} + 1)) "$1" 2>/dev/null | tr -d '\r' | awk -v text="$2" -v who="${3-}" '
        {
            name = ""; rest = $0
            if (match($0, /^\[[^] ]+\] /)) {
                name = substr($0, 2, RLENGTH - 3); rest = substr($0, RLENGTH + 1)
            }
            if (who != "" && name != who) next
            s = seen[name] rest
            if (index(s, text)) { found = 1; exit }
            seen[name] = length(s) > 512 ? substr(s, length(s) - 511) : s
        }
        END { exit !found }'
}

# console_wait LOG TEXT SECONDS [LPAR] : waits until console_saw; false after SECONDS.
console_wait() {
    local deadline=$((SECONDS + $3))
    until console_saw "$1" "$2" "${4-}"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.2
    done
}
