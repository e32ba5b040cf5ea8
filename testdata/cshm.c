/*
 * cshm: the C side of shm's interoperability tests. It uses only libc's
 * POSIX shm calls, so the objects it reaches are the ones any C program
 * on this host reaches.
 *
 *   cshm check NAME TEXT     shm_open(NAME, O_RDWR), mmap, check that the
 *                            object starts with TEXT, write "hello from C"
 *                            at offset 1024
 *   cshm create NAME SIZE TEXT
 *                            shm_open(NAME, O_RDWR|O_CREAT|O_EXCL, 0600),
 *                            ftruncate(SIZE), write TEXT at offset 0
 *   cshm unlink NAME         shm_unlink(NAME)
 *   cshm exists NAME         exit 0 if shm_open(NAME, O_RDONLY) works,
 *                            3 if ENOENT
 *
 * Exit status: 0 success, 1 mismatch, 2 usage, 3 ENOENT, 4 other error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *what, const char *name) {
	int e = errno;
	fprintf(stderr, "cshm: %s %s: %s\n", what, name, strerror(e));
	return e == ENOENT ? 3 : 4;
}

int main(int argc, char **argv) {
	if (argc < 3)
		return 2;
	const char *cmd = argv[1], *name = argv[2];
	if (strcmp(cmd, "check") == 0 && argc == 4) {
		int fd = shm_open(name, O_RDWR, 0);
		if (fd < 0)
			return fail("shm_open", name);
		struct stat st;
		if (fstat(fd, &st) < 0)
			return fail("fstat", name);
		if (st.st_size < 2048) {
			fprintf(stderr, "cshm: %s is %lld bytes, want at least 2048\n", name, (long long)st.st_size);
			return 1;
		}
		char *p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return fail("mmap", name);
		if (strncmp(p, argv[3], strlen(argv[3])) != 0) {
			fprintf(stderr, "cshm: %s starts with %.20s, want %s\n", name, p, argv[3]);
			return 1;
		}
		memcpy(p + 1024, "hello from C", 12);
		munmap(p, st.st_size);
		close(fd);
		return 0;
	}
	if (strcmp(cmd, "create") == 0 && argc == 5) {
		int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			return fail("shm_open", name);
		off_t size = atoll(argv[3]);
		if (ftruncate(fd, size) < 0)
			return fail("ftruncate", name);
		char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return fail("mmap", name);
		memcpy(p, argv[4], strlen(argv[4]));
		munmap(p, size);
		close(fd);
		return 0;
	}
	if (strcmp(cmd, "unlink") == 0 && argc == 3) {
		if (shm_unlink(name) < 0)
			return fail("shm_unlink", name);
		return 0;
	}
	if (strcmp(cmd, "exists") == 0 && argc == 3) {
		int fd = shm_open(name, O_RDONLY, 0);
		if (fd < 0)
			return fail("shm_open", name);
		close(fd);
		return 0;
	}
	return 2;
}
