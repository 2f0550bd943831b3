# shellcheck shell=sh
# One test run inside the sandbox container, as the test user: sandbox/container.py runs this text with
#   sh -c "$(this file)" sh TIMEOUT WORKDIR STARTED CHANGED REPORT "TEMPORARY FOLDERS" COMMAND [ARGUMENT...]
# (no file of it in the container: its text is the exec's command line). Checked by shellcheck in the tests.
timeout_s=$1 workdir=$2 started=$3 changed=$4 report=$5 temporary=$6
shift 6

# The temporary folders are the only places the code can write, and they outlive a run (in a parked container,
# the last run's): end whatever the last run left running, then empty them, their locked folders opened first, so
# that nothing one run leaves (a usercustomize.py, a .pth, a fake report, a secret) reaches the next.
kill -9 -1 2>/dev/null
# shellcheck disable=SC2086  # the folders, one word each
for folder in $temporary; do
  find "$folder" -mindepth 1 -type d ! -perm -u+rwx -exec chmod u+rwx {} \; 2>/dev/null
  find "$folder" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null
done

# A fresh key for the plugin to sign its records with, given on pytest's stdin (a builtin's pipe: on no command
# line), told to makegreen only at the end, when every process of the run is gone.
key=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
: > "$started"
printf %s "$key" | timeout --signal=KILL "$timeout_s" "$@" 2>&1
rc=$?

# The test uid owns nothing else here, so `kill -9 -1` as that uid ends every process the run left (daemons
# included) and nothing more. Then a workspace file newer than the start was changed by the code under test: the
# workspace is read-only to it, so this list is a second guard.
kill -9 -1 2>/dev/null
find "$workdir" -newer "$started" ! -type d > "$changed" 2>/dev/null

# The results leave on stderr, which the run's processes never had (they write to stdout), framed by their
# lengths at the very end, where nothing of theirs can follow: no second exec is needed.
reported=0
[ -f "$report" ] && reported=$(wc -c < "$report")
listed=$(wc -c < "$changed")
cat "$report" "$changed" >&2 2>/dev/null
printf '\n%s %s %s\n' "$reported" "$listed" "$key" >&2
exit "$rc"
