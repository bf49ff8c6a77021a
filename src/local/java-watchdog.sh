#!/bin/sh
# Runs DynamoDB Local's java with the given arguments and stops it when this script is told to
# stop or when the Node process that started it is gone, even if that process was SIGKILLed.
# The sleep runs in the background so that a signal is handled at once, not after it.
parent=$PPID
java "$@" &
child=$!
trap 'kill "$child" 2>/dev/null; wait "$child"; exit 0' TERM INT HUP
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do
  sleep 0.5 &
  wait $!
done
kill "$child" 2>/dev/null
wait "$child"
