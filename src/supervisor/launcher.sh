#!/bin/sh
# The launcher: the first process of every agent tree, run as
#   /bin/sh launcher.sh <statusPath> <argv0> [args...]
# by spawnAgent in a new session (so its pid is the tree's process group id). It runs the agent
# argv as a foreground command (no shell parsing: "$@" passes each argument as it is), waits for
# it, records the exit to <statusPath>, then exits the same way the agent did. The status file is
# how a worker that adopts the run after a crash learns how the agent ended: it is not the
# agent's parent and cannot wait() for it.
#
# Signals: a kill sends SIGTERM to the whole process group. The launcher traps it with a no-op
# (not an ignore, which the agent would inherit), so it outlives the agent, records how it ended
# and re-raises the signal. SIGKILL ends it at once; the supervisor then writes the status.
#
# POSIX sh rather than Node: a launcher starts per agent, and sh starts in about a millisecond
# where Node took 40 ms and 47 MB. The price: sh reports a signal death as 128+N, so an agent that
# exits on its own with a code above 128 is recorded as killed by signal (code - 128).
status_path=$1
shift
if [ -z "$status_path" ] || [ $# -eq 0 ]; then
  echo 'usage: launcher.sh <statusPath> <argv0> [args...]' >&2
  exit 2
fi
now() { date -u '+%Y-%m-%dT%H:%M:%S.%3NZ' 2>/dev/null || date -u '+%Y-%m-%dT%H:%M:%SZ'; }
started_at=$(now)
# The supervisor moves the agent's NODE_OPTIONS aside (they were meant for the agent, not us).
if [ -n "${AUTOCODER_AGENT_NODE_OPTIONS+set}" ]; then
  NODE_OPTIONS=$AUTOCODER_AGENT_NODE_OPTIONS
  export NODE_OPTIONS
  unset AUTOCODER_AGENT_NODE_OPTIONS
fi
trap ':' TERM INT HUP
# A foreground child, so the agent keeps default SIGINT/SIGQUIT (an async one would ignore them);
# the one-line sh in between only records the agent's pid before exec'ing it.
pid_file="$status_path.$$.pid"
/bin/sh -c 'printf %s "$$" > "$0"; exec "$@"' "$pid_file" "$@"
code=$?
# read, not cat: no process to start between the agent's exit and its status (printf wrote no newline).
agent_pid=
{ read -r agent_pid < "$pid_file"; } 2>/dev/null || :
rm -f "$pid_file"
case "$agent_pid" in ''|*[!0-9]*) agent_pid=null ;; esac
signal=
if [ "$code" -gt 128 ]; then
  signal=$(kill -l $((code - 128)) 2>/dev/null) && signal="SIG${signal#SIG}" || signal=
fi
if [ -n "$signal" ]; then
  exit_json=null
  signal_json="\"$signal\""
else
  exit_json=$code
  signal_json=null
fi
error_json=
[ "$code" -eq 127 ] && error_json=',"error":"command not found or not executable"'
# Written in place, not through a temporary file and mv: no reader looks before this launcher is
# gone (the supervisor waits for its exit, or polls its pid when it adopted the run), and a write
# cut short by SIGKILL is no JSON, which the supervisor replaces with its own record. One process
# fewer between the agent's exit and its report.
printf '{"exitCode":%s,"signal":%s,"agentPid":%s,"startedAt":"%s","endedAt":"%s","writtenBy":"launcher"%s}\n' \
  "$exit_json" "$signal_json" "$agent_pid" "$started_at" "$(now)" "$error_json" > "$status_path"
if [ -n "$signal" ]; then
  # Re-raise so that our own exit status is true to the agent's.
  trap - TERM INT HUP
  kill -s "${signal#SIG}" $$
fi
exit "$code"
