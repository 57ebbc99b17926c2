# Debian's perl: fork, pipe, wait statuses, signals, POSIX.
use strict;
use POSIX qw(floor :sys_wait_h);
pipe(my $r, my $w) or die;
my $pid = fork();
if ($pid == 0) { close $r; print $w "from child\n"; close $w; exit 3; }
close $w;
print scalar(<$r>);
waitpid($pid, 0);
print "child exit ", WEXITSTATUS($?), "\n";
local $SIG{USR1} = sub { print "got USR1\n" };
kill 'USR1', $$;
print floor(7.9), " ", join(",", sort { $a <=> $b } (5, 3, 9)), "\n";
my %h = map { $_ => length $_ } qw(a bb ccc);
print join(" ", map { "$_=$h{$_}" } sort keys %h), "\n";
