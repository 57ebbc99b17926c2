# /proc and /dev as programs read them: busybox's applets, run natively and
# in ukfork; what differs between machines (pids, memory) is printed as checks.
basename "$(readlink /proc/self/exe)"
cat /proc/self/comm
wc -w < /proc/self/stat
grep -c '^State:' /proc/self/status
grep '^Uid:' /proc/self/status | wc -w
head -1 /proc/self/limits
grep -c 'Max open files' /proc/self/limits
tr "\0" "\n" < /proc/$$/cmdline | tail -1 | sed "s,.*/,,"
awk '{print NF}' /proc/uptime /proc/loadavg
grep -c '^MemTotal:' /proc/meminfo
grep -c '^processor' /proc/cpuinfo | awk '{print ($1 > 0)}'
cat /proc/sys/kernel/ngroups_max
test "$(cat /proc/sys/kernel/osrelease)" = "$(uname -r)" && echo osrelease matches uname
test "$(readlink /proc/self)" -gt 0 && echo self is a pid
test -d /proc/$$ && echo shell pid listed
ls -d /proc/[0-9]* | wc -l | awk '{print ($1 > 0)}'
grep -c ' /proc proc ' /proc/mounts
grep -c '\[stack\]' /proc/self/maps
test -e /dev/fd/0 && echo /dev/fd/0 exists
readlink /dev/stdout
echo piped | cat /dev/stdin
(sleep 0.01; echo applet from /proc/self/exe)
cd /tmp && readlink /proc/self/cwd
