# Debian's bash and coreutils: pipelines, substitutions, subshells, loops,
# background jobs with their statuses, traps, functions.
set -u
seq 1 200 | sort -rn | head -3
printf '%s\n' pear apple fig | sort | tr a-z A-Z | cat -n
n=$(seq 1 50 | wc -l)
echo "count $n"
(exit 7); echo "subshell status $?"
f() { local x=$1; echo "f got $x"; return 3; }
f arg; echo "f returned $?"
sleep 0.05 & p1=$!
(exit 4) & p2=$!
wait $p1; echo "job 1 $?"
wait $p2; echo "job 2 $?"
trap 'echo trapped USR1' USR1
kill -USR1 $$
for i in 1 2 3; do echo "line $i"; done | while read -r l; do echo "got $l"; done
echo "${BASH_VERSINFO[0]}" | grep -c '^5'
false | true; echo "pipestatus ${PIPESTATUS[*]}"
cat <(echo from a process substitution)
wc -l < <(seq 1 4)
while read -r l; do echo "read $l"; done < <(printf 'x\ny\n')
cat > /tmp/heredoc.$$ <<END
here-document line, pid-free
END
cat /tmp/heredoc.$$
echo to stderr > /dev/stderr
exit 5
