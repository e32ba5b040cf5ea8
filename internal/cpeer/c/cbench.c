/*
 * Baselines for the internal/lock benchmarks, built with the system cc.
 *
 *   cbench mutex N   N uncontended lock+unlock pairs of a process-shared,
 *                    robust pthread mutex in a MAP_SHARED mapping
 *   cbench sem N     N round trips between two processes over two
 *                    process-shared glibc sem_t (sem_post/sem_wait)
 *   cbench touch1g N N times: memfd_create, ftruncate to 1 GiB, mmap,
 *                    write one byte in every page, munmap, close (Linux);
 *                    prints the CPU time of the process (user and system)
 *                    per operation, not the elapsed time
 *
 * Prints nanoseconds per operation (per round trip for sem). Each mode
 * first runs some untimed operations (the sem child is scheduled and
 * running before the clock starts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Untimed operations before the clock starts. */
#define WARM_MUTEX 10000
#define WARM_SEM 200

static double now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what, int err) {
	fprintf(stderr, "cbench: %s: %s\n", what, strerror(err));
	exit(1);
}

static int bench_mutex(long n, void *mem) {
	pthread_mutexattr_t attr;
	pthread_mutex_t *m = mem;
	int err;
	pthread_mutexattr_init(&attr);
	if ((err = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED)) != 0)
		die("setpshared", err);
	if ((err = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST)) != 0)
		die("setrobust", err);
	if ((err = pthread_mutex_init(m, &attr)) != 0)
		die("mutex_init", err);
	for (long i = 0; i < WARM_MUTEX; i++) {
		pthread_mutex_lock(m);
		pthread_mutex_unlock(m);
	}
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if ((err = pthread_mutex_lock(m)) != 0)
			die("lock", err);
		if ((err = pthread_mutex_unlock(m)) != 0)
			die("unlock", err);
	}
	double t1 = now_ns();
	printf("%.3f\n", (t1 - t0) / (double)n);
	return 0;
}

static int bench_sem(long n, void *mem) {
	sem_t *a = mem, *b = a + 1;
	if (sem_init(a, 1, 0) != 0 || sem_init(b, 1, 0) != 0)
		die("sem_init", errno);
	pid_t pid = fork();
	if (pid < 0)
		die("fork", errno);
	if (pid == 0) {
		for (long i = 0; i < n + WARM_SEM; i++) {
			while (sem_wait(a) != 0)
				if (errno != EINTR)
					die("sem_wait", errno);
			sem_post(b);
		}
		_exit(0);
	}
	double t0 = 0;
	for (long i = 0; i < n + WARM_SEM; i++) {
		if (i == WARM_SEM)
			t0 = now_ns();
		sem_post(a);
		while (sem_wait(b) != 0)
			if (errno != EINTR)
				die("sem_wait", errno);
	}
	double t1 = now_ns();
	int status;
	waitpid(pid, &status, 0);
	printf("%.3f\n", (t1 - t0) / (double)n);
	return 0;
}

static int bench_touch1g(long n) {
#ifdef __linux__
	const size_t size = (size_t)1 << 30;
	long page = sysconf(_SC_PAGESIZE);
	struct timespec c0, c1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	for (long i = 0; i < n; i++) {
		int fd = memfd_create("cbench", MFD_CLOEXEC);
		if (fd < 0)
			die("memfd_create", errno);
		if (ftruncate(fd, (off_t)size) != 0)
			die("ftruncate", errno);
		volatile char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			die("mmap", errno);
		for (size_t off = 0; off < size; off += (size_t)page)
			p[off] = 1;
		munmap((void *)p, size);
		close(fd);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	double cpu = (double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec);
	printf("%.3f\n", cpu / (double)n);
	return 0;
#else
	(void)n;
	fprintf(stderr, "cbench: touch1g needs memfd_create (Linux)\n");
	return 1;
#endif
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: cbench mutex|sem|touch1g N\n");
		return 2;
	}
	long n = atol(argv[2]);
	if (n <= 0)
		n = 1;
	void *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap", errno);
	if (strcmp(argv[1], "mutex") == 0)
		return bench_mutex(n, mem);
	if (strcmp(argv[1], "sem") == 0)
		return bench_sem(n, mem);
	if (strcmp(argv[1], "touch1g") == 0)
		return bench_touch1g(n);
	fprintf(stderr, "cbench: unknown mode %s\n", argv[1]);
	return 2;
}
