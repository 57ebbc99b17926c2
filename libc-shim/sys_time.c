/* Time syscalls: clock_gettime/getres/nanosleep, gettimeofday, time, nanosleep. */
#include "shim.h"

/* Clocks run on the TSC, calibrated once against the host: a hypercall per
 * clock_gettime would cost microseconds. Without a known TSC frequency every
 * read asks the host. */

#define NSEC_PER_SEC 1000000000LL

static int calibrated;
static uint64_t tsc_base, mult;     /* ns = (tsc - tsc_base) * mult >> 32 */
static uint64_t start_tsc;
static int64_t real_base, mono_base, start_mono, last_mono;

#define rdtsc ukf_rdtsc

static void host_clock(int64_t *real, int64_t *mono)
{
	struct ukf_hc_clock c = { 0 };
	ukf_hcall(UKF_HC_CLOCK, &c);
	*real = c.realtime_ns;
	*mono = c.monotonic_ns;
}

static void calibrate(void)
{
	uint64_t khz = ukf_boot->tsc_khz;

	/* The midpoint of the hypercall is the best guess of when the host
	 * read its clocks. */
	uint64_t t0 = rdtsc();
	host_clock(&real_base, &mono_base);
	uint64_t t1 = rdtsc();
	tsc_base = t0 + (t1 - t0) / 2;
	if (khz) {
		mult = (1000000ULL << 32) / khz;
		uint64_t d = tsc_base > start_tsc ? tsc_base - start_tsc : 0;
		start_mono = mono_base - (int64_t)((unsigned __int128)d * mult >> 32);
		last_mono = start_mono;
	}
	calibrated = 1;
}

/* Remember the program's start (for the CPU-time clocks). With a known TSC
 * rate that is one rdtsc, and calibration waits for the first clock read:
 * a program that never reads a clock never pays the exit. */
void ukf_time_init(void)
{
	int64_t real;

	if (ukf_boot->tsc_khz) {
		start_tsc = rdtsc();
		return;
	}
	calibrate();
	host_clock(&real, &start_mono);
	last_mono = start_mono;
}

/* A forked child may run on another TSC (another host, another VM's
 * offset): calibrate again at the next read, unless the host says the TSC
 * is the parent's. CPU time restarts at zero. */
void ukf_time_forked(void)
{
	start_tsc = rdtsc();
	if (ukf_boot->flags & UKF_BOOT_SAME_TSC)
		return;
	calibrated = 0;
	if (!ukf_boot->tsc_khz) {
		int64_t real;
		host_clock(&real, &start_mono);
		last_mono = start_mono;
	}
}

/* Nanoseconds since the calibration, never going backwards. */
static void now(int64_t *real, int64_t *mono)
{
	if (!calibrated)
		calibrate();
	if (!ukf_boot->tsc_khz) {
		host_clock(real, mono);
	} else {
		uint64_t t = rdtsc();
		uint64_t d = t > tsc_base ? t - tsc_base : 0;
		int64_t ns = (int64_t)((unsigned __int128)d * mult >> 32);
		*real = real_base + ns;
		*mono = mono_base + ns;
	}
	if (*mono < last_mono)
		*mono = last_mono;
	last_mono = *mono;
}

/* The clock's current value in nanoseconds, or -EINVAL for unknown ids. */
int64_t ukf_clock_ns(int32_t clk, int64_t *ns)
{
	int64_t real, mono;

	switch (clk) {
	case UKF_CLOCK_REALTIME:
	case UKF_CLOCK_REALTIME_COARSE:
	case UKF_CLOCK_TAI: /* the kernel's TAI offset is 0 until NTP sets it */
		now(&real, &mono);
		*ns = real;
		return 0;
	case UKF_CLOCK_MONOTONIC:
	case UKF_CLOCK_MONOTONIC_RAW:
	case UKF_CLOCK_MONOTONIC_COARSE:
	case UKF_CLOCK_BOOTTIME: /* the guest never suspends */
		now(&real, &mono);
		*ns = mono;
		return 0;
	case UKF_CLOCK_PROCESS_CPUTIME_ID:
	case UKF_CLOCK_THREAD_CPUTIME_ID:
		/* One vCPU running one program: wall time since it started
		 * stands in for CPU time (it includes sleeps). */
		now(&real, &mono);
		*ns = mono - start_mono;
		return 0;
	default:
		return -EINVAL;
	}
}

static int64_t put_timespec(uint64_t uts, int64_t ns)
{
	if (!ukf_user_ok(uts, sizeof(struct ukf_timespec)))
		return -EFAULT;
	struct ukf_timespec *ts = UKF_UPTR(struct ukf_timespec, uts);
	/* Floor division: realtime may be negative in principle. */
	int64_t sec = ns / NSEC_PER_SEC, rem = ns % NSEC_PER_SEC;
	if (rem < 0) {
		rem += NSEC_PER_SEC;
		sec--;
	}
	ts->tv_sec = sec;
	ts->tv_nsec = rem;
	return 0;
}

/* Read and validate a user timespec into nanoseconds (saturating). */
static int64_t get_timespec(uint64_t uts, int64_t *ns)
{
	if (!ukf_user_ok(uts, sizeof(struct ukf_timespec)))
		return -EFAULT;
	struct ukf_timespec ts = *UKF_UPTR(struct ukf_timespec, uts);
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC_PER_SEC)
		return -EINVAL;
	if (ts.tv_sec >= INT64_MAX / NSEC_PER_SEC)
		*ns = INT64_MAX;
	else
		*ns = ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
	return 0;
}

/* CPU clock ids (clock_getcpuclockid, pthread_getcpuclockid) as Linux
 * encodes them: ~pid << 3, 4 for a thread's clock, then which (PROF 0,
 * VIRT 1, SCHED 2; 3 marks a clock fd, a PTP device, which the guest has
 * none of). pid 0 is the caller. */
#define CPUCLOCK_PERTHREAD 4
#define CPUCLOCK_SCHED     2
#define CPUCLOCK_FD        3
#define CPUCLOCK_SELF      0 /* cpu_clock: the caller's own */
#define CPUCLOCK_OTHER     1 /* cpu_clock: another process of the run */

/* Which process a CPU clock id (< 0) names, as posix-cpu-timers.c's
 * pid_for_clock: the caller, another live process, or -EINVAL (no such
 * process, another process's thread, a clock fd). */
static int64_t cpu_clock(int32_t clk)
{
	int32_t pid = ~(clk >> 3);

	if ((clk & 3) == CPUCLOCK_FD)
		return -EINVAL;
	if (pid == 0 || pid == ukf_boot->pid)
		return CPUCLOCK_SELF; /* one thread: its tid is the pid */
	if (clk & CPUCLOCK_PERTHREAD)
		return -EINVAL; /* a thread of another process */
	struct ukf_hc_kill k = { .pid = pid, .sig = 0 }; /* does it exist? */
	int64_t r = ukf_hcall(UKF_HC_KILL, &k);
	return r == 0 || r == -EPERM ? CPUCLOCK_OTHER : -EINVAL;
}

UKF_SYSCALL2(clock_gettime, int32_t, clk, uint64_t, uts)
{
	int64_t ns;
	if (clk < 0) {
		int64_t w = cpu_clock(clk);
		if (w < 0)
			return w;
		if (w == CPUCLOCK_OTHER)
			return -EINVAL; /* another process's CPU time: not kept */
		clk = UKF_CLOCK_PROCESS_CPUTIME_ID;
	}
	int64_t r = ukf_clock_ns(clk, &ns);
	if (r < 0)
		return r;
	return put_timespec(uts, ns);
}

UKF_SYSCALL2(clock_getres, int32_t, clk, uint64_t, uts)
{
	int64_t ns;
	if (clk < 0) {
		/* Linux: 1 ns for the scheduler's clock, a tick (HZ=250) for
		 * PROF and VIRT. */
		int64_t w = cpu_clock(clk);
		if (w < 0)
			return w;
		if (!uts)
			return 0;
		return put_timespec(uts, (clk & 3) == CPUCLOCK_SCHED ? 1 : 4000000);
	}
	int64_t r = ukf_clock_ns(clk, &ns); /* validates clk */
	if (r < 0)
		return r;
	if (!uts)
		return 0;
	/* Coarse clocks report the tick (HZ=250), like Linux. */
	if (clk == UKF_CLOCK_REALTIME_COARSE || clk == UKF_CLOCK_MONOTONIC_COARSE)
		return put_timespec(uts, 4000000);
	return put_timespec(uts, 1);
}

UKF_SYSCALL2(gettimeofday, uint64_t, utv, uint64_t, utz)
{
	int64_t ns;

	if (utv) {
		if (!ukf_user_ok(utv, sizeof(struct ukf_timeval)))
			return -EFAULT;
		ukf_clock_ns(UKF_CLOCK_REALTIME, &ns);
		struct ukf_timeval *tv = UKF_UPTR(struct ukf_timeval, utv);
		tv->tv_sec = ns / NSEC_PER_SEC;
		tv->tv_usec = ns % NSEC_PER_SEC / 1000;
	}
	if (utz) {
		if (!ukf_user_ok(utz, sizeof(struct ukf_timezone)))
			return -EFAULT;
		*UKF_UPTR(struct ukf_timezone, utz) = (struct ukf_timezone){ 0, 0 };
	}
	return 0;
}

UKF_SYSCALL1(time, uint64_t, utloc)
{
	int64_t ns;

	ukf_clock_ns(UKF_CLOCK_REALTIME, &ns);
	int64_t sec = ns / NSEC_PER_SEC;
	if (utloc) {
		if (!ukf_user_ok(utloc, sizeof(int64_t)))
			return -EFAULT;
		*UKF_UPTR(int64_t, utloc) = sec;
	}
	return sec;
}

/* Sleep ns nanoseconds on the host. A signal ends it with EINTR; the time
 * left then goes to urem (if not 0), as Linux writes it. */
static int64_t sleep_ns(int64_t ns, uint64_t urem)
{
	int64_t t0, t1;

	if (ns <= 0)
		return 0;
	ukf_clock_ns(UKF_CLOCK_MONOTONIC, &t0);
	struct ukf_hc_nanosleep s = { .duration = ns };
	int64_t r = ukf_hcall(UKF_HC_NANOSLEEP, &s);
	if (r != -EINTR || !urem)
		return r < 0 ? r : 0;
	ukf_clock_ns(UKF_CLOCK_MONOTONIC, &t1);
	int64_t left = ns - (t1 - t0);
	int64_t w = put_timespec(urem, left > 0 ? left : 0);
	return w < 0 ? w : r;
}

UKF_SYSCALL2(nanosleep, uint64_t, ureq, uint64_t, urem)
{
	int64_t ns;

	int64_t r = get_timespec(ureq, &ns);
	if (r < 0)
		return r;
	return sleep_ns(ns, urem);
}

UKF_SYSCALL4(clock_nanosleep, int32_t, clk, int32_t, flags, uint64_t, ureq,
	     uint64_t, urem)
{
	int64_t ns, now_ns;

	if (clk < 0) {
		int64_t w = cpu_clock(clk);
		if (w < 0 || (w == CPUCLOCK_SELF && (clk & CPUCLOCK_PERTHREAD)))
			return -EINVAL; /* Linux: never on the caller's own thread */
		if (w == CPUCLOCK_OTHER)
			return -EOPNOTSUPP;
		clk = UKF_CLOCK_PROCESS_CPUTIME_ID;
	}
	switch (clk) {
	case UKF_CLOCK_REALTIME:
	case UKF_CLOCK_MONOTONIC:
	case UKF_CLOCK_BOOTTIME:
	case UKF_CLOCK_TAI:
	case UKF_CLOCK_PROCESS_CPUTIME_ID:
		break;
	case UKF_CLOCK_THREAD_CPUTIME_ID:
		return -EINVAL;
	default:
		return ukf_clock_ns(clk, &now_ns) < 0 ? -EINVAL : -EOPNOTSUPP;
	}
	int64_t r = get_timespec(ureq, &ns);
	if (r < 0)
		return r;
	if (flags & UKF_TIMER_ABSTIME) {
		ukf_clock_ns(clk, &now_ns);
		ns = ns - now_ns; /* both non-negative: cannot overflow */
		urem = 0;         /* Linux leaves it alone for an absolute time */
	}
	return sleep_ns(ns, urem);
}
