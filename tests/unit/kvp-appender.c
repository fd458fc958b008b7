/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test helper: writes a KVP pool file the way the other programs on a Hyper-V guest do, so
 * the pool tests can run it concurrently with their own operations.
 *
 *   kvp-appender append PATH PREFIX N
 *       N times: open(O_WRONLY|O_APPEND), flock(LOCK_EX), write one whole 2560-byte record
 *       "PREFIX-i" = "value-i", unlock, close. This is what cloud-init and azure-init do.
 *   kvp-appender rewrite PATH PREFIX N
 *       N times, on one long-lived fd: fcntl(F_SETLKW, F_WRLCK, whole file), read every
 *       whole record, add "PREFIX-i" = "value-i", truncate the file and write all records
 *       back, unlock. This is what the kernel's reference daemon does on every SET.
 *   kvp-appender hold flock|fcntl-read|fcntl-write PATH [UID]
 *       A hostile local user: drops to UID (and its gid, when run as root), opens PATH
 *       read-only (read-write for fcntl-write, which needs it) and takes flock(LOCK_EX), or
 *       a whole-file F_RDLCK or F_WRLCK with F_SETLK, then writes "locked\n" to stdout and
 *       keeps the lock until stdin reaches end of file. Dies with its parent.
 *
 * Exit status 0 when every record was written (or the lock was held), 1 on any error
 * (message on stderr). Uses libc only, independent of the library under test.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_SIZE 512
#define VALUE_SIZE 2048
#define RECORD_SIZE (KEY_SIZE + VALUE_SIZE)
#define MAX_N 1000000

static void record_build(char *rec, const char *prefix, unsigned long i)
{
	memset(rec, 0, RECORD_SIZE);
	snprintf(rec, KEY_SIZE, "%s-%lu", prefix, i);
	snprintf(rec + KEY_SIZE, VALUE_SIZE, "value-%lu", i);
}

static int write_full(int fd, const char *buf, size_t size)
{
	while (size > 0) {
		ssize_t n = write(fd, buf, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		size -= (size_t)n;
	}
	return 0;
}

static int append_one(const char *path, const char *prefix, unsigned long i)
{
	char rec[RECORD_SIZE];
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	int r;

	if (fd < 0)
		return -1;
	record_build(rec, prefix, i);
	r = flock(fd, LOCK_EX);
	if (r == 0)
		r = write_full(fd, rec, RECORD_SIZE);
	flock(fd, LOCK_UN);
	close(fd);
	return r;
}

static int fcntl_lock(int fd, short type)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET};

	return fcntl(fd, type == F_UNLCK ? F_SETLK : F_SETLKW, &fl);
}

/* Reads all whole records of fd into a new buffer. */
static char *read_records(int fd, size_t *ret_size)
{
	struct stat st;
	char *buf;
	size_t size, done = 0;

	if (fstat(fd, &st) < 0)
		return NULL;
	size = (size_t)st.st_size / RECORD_SIZE * RECORD_SIZE;
	buf = malloc(size + RECORD_SIZE);
	if (!buf)
		return NULL;
	while (done < size) {
		ssize_t n = pread(fd, buf + done, size - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	*ret_size = done / RECORD_SIZE * RECORD_SIZE;
	return buf;
}

static int rewrite_one(int fd, const char *prefix, unsigned long i)
{
	size_t size = 0;
	char *buf;
	int r = -1;

	if (fcntl_lock(fd, F_WRLCK) < 0)
		return -1;
	buf = read_records(fd, &size);
	if (buf) {
		record_build(buf + size, prefix, i);
		if (ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0)
			r = write_full(fd, buf, size + RECORD_SIZE);
		free(buf);
	}
	fcntl_lock(fd, F_UNLCK);
	return r;
}

static int run(const char *mode, const char *path, const char *prefix, unsigned long n)
{
	int fd = -1;

	if (strcmp(mode, "rewrite") == 0) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -1;
	} else if (strcmp(mode, "append") != 0) {
		errno = EINVAL;
		return -1;
	}
	for (unsigned long i = 0; i < n; i++) {
		int r = fd < 0 ? append_one(path, prefix, i) : rewrite_one(fd, prefix, i);

		if (r < 0) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

static int drop_to(const char *uid_text)
{
	char *end;
	unsigned long uid;

	errno = 0;
	uid = strtoul(uid_text, &end, 10);
	if (errno || end == uid_text || *end || uid >= 65535) {
		errno = EINVAL;
		return -1;
	}
	if (geteuid() != 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setresgid((gid_t)uid, (gid_t)uid, (gid_t)uid) < 0 ||
	    setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
		return -1;
	return 0;
}

static int hold(const char *kind, const char *path, const char *uid)
{
	bool is_flock = strcmp(kind, "flock") == 0, wr = strcmp(kind, "fcntl-write") == 0;
	struct flock fl = {.l_type = wr ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET};
	char c;
	int fd;

	if (!is_flock && !wr && strcmp(kind, "fcntl-read") != 0) {
		errno = EINVAL;
		return -1;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || (uid && drop_to(uid) < 0))
		return -1;
	fd = open(path, (wr ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	if ((is_flock ? flock(fd, LOCK_EX) : fcntl(fd, F_SETLK, &fl)) < 0 ||
	    write_full(STDOUT_FILENO, "locked\n", 7) < 0)
		return -1;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, &c, 1);

		if (n == 0 || (n < 0 && errno != EINTR))
			return 0; /* the parent closed its end, or is gone */
	}
}

int main(int argc, char **argv)
{
	char *end;
	unsigned long n;

	if ((argc == 4 || argc == 5) && strcmp(argv[1], "hold") == 0) {
		if (hold(argv[2], argv[3], argc == 5 ? argv[4] : NULL) < 0) {
			fprintf(stderr, "%s hold %s: %s\n", argv[0], argv[2], strerror(errno));
			return 1;
		}
		return 0;
	}
	if (argc != 5) {
		fprintf(stderr, "usage: %s append|rewrite PATH PREFIX N | hold KIND PATH [UID]\n",
			argv[0]);
		return 1;
	}
	errno = 0;
	n = strtoul(argv[4], &end, 10);
	if (errno || end == argv[4] || *end || n > MAX_N) {
		fprintf(stderr, "%s: bad count '%s'\n", argv[0], argv[4]);
		return 1;
	}
	if (run(argv[1], argv[2], argv[3], n) < 0) {
		fprintf(stderr, "%s %s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	return 0;
}
