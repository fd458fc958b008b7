/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The simulated char device: hv_utils_transport (drivers/hv/hv_utils_transport.c) in
 * char-device mode, spoken over a UNIX SOCK_SEQPACKET socket with the framing of
 * lib/vmbus-user/chardev-sock.h.
 *
 * - open: the first connection gets VMU_SOCK_OPEN{0}; any further connection while one is
 *   open gets VMU_SOCK_OPEN{EBUSY} and is closed (single opener).
 * - write: each datagram from the daemon is one write(); the service's on_msg validates it
 *   exactly as the kernel does and its result goes back as VMU_SOCK_WRITE{0 or errno}
 *   before anything else the kernel sends afterwards (a kernel message produced while the
 *   write is handled, such as a registration reply, waits until the WRITE frame is out).
 * - read: the kernel has one message slot (outmsg, queue depth 1). A message counts as
 *   "read by the daemon" as soon as it went out on the socket: a socket cannot tell when
 *   the daemon really read it. The per-message on_read callback (registration complete)
 *   fires then. So hvsim_transport_send() only meets a still-queued message (and fails
 *   with -EFAULT, as the kernel does) when the socket buffer is full or a send happens
 *   while a write is being handled — in practice the fake hibernation messages.
 * - close: the connection ends (EOF, error) = release(): the queued message is dropped and
 *   the service's on_reset runs (pending host transaction failed, back to DEVICE_INIT).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/vmbus-user/chardev-sock.h"
#include "tools/hv-host-sim/hvsim-internal.h"

/* Daemon writes larger than this are still reported with their real length (MSG_TRUNC);
 * every kernel on_msg reads at most sizeof(struct hv_kvp_msg) of them. */
#define WRITE_BUFFER_SIZE 16384

void hvsim_transport_init(struct hvsim_transport *t, struct hvsim_service *svc)
{
	*t = (struct hvsim_transport){.svc = svc, .listen_fd = -1, .conn_fd = -1};
}

bool hvsim_transport_connected(const struct hvsim_transport *t)
{
	return t->conn_fd >= 0;
}

static int send_frame(int fd, enum vmu_sock_kind kind, int error, const void *payload, size_t len)
{
	struct vmu_sock_frame frame = {.kind = kind, .error = error};
	struct iovec iov[2] = {
	    {.iov_base = &frame, .iov_len = sizeof(frame)},
	    {.iov_base = (void *)payload, .iov_len = len},
	};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = payload ? 2 : 1};

	if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

static void drop_outmsg(struct hvsim_transport *t)
{
	free(t->outmsg);
	t->outmsg = NULL;
	t->outmsg_len = 0;
	t->on_read = NULL;
}

/* release(): mode back to INIT, queued message freed, service reset. */
static void connection_close(struct hvsim_transport *t)
{
	if (t->conn_fd < 0)
		return;
	t->conn_src = sd_event_source_disable_unref(t->conn_src);
	close(t->conn_fd);
	t->conn_fd = -1;
	drop_outmsg(t);
	t->svc->ops->on_reset(t->svc);
}

/* Delivers the queued message; on EAGAIN it stays queued until the socket is writable. */
static void flush_outmsg(struct hvsim_transport *t)
{
	void (*on_read)(struct hvsim_service * svc);
	int r;

	if (!t->outmsg || t->conn_fd < 0 || t->in_write)
		return;
	r = send_frame(t->conn_fd, VMU_SOCK_MESSAGE, 0, t->outmsg, t->outmsg_len);
	if (r == -EAGAIN) {
		sd_event_source_set_io_events(t->conn_src, EPOLLIN | EPOLLOUT);
		return;
	}
	if (r < 0) {
		connection_close(t);
		return;
	}
	sd_event_source_set_io_events(t->conn_src, EPOLLIN);
	on_read = t->on_read;
	drop_outmsg(t);
	if (on_read)
		on_read(t->svc);
}

int hvsim_transport_send(struct hvsim_transport *t, const void *msg, size_t len,
			 void (*on_read)(struct hvsim_service *svc))
{
	if (t->conn_fd < 0)
		return -EINVAL;
	if (t->outmsg)
		return -EFAULT;
	t->outmsg = malloc(len ? len : 1);
	if (!t->outmsg)
		return -ENOMEM;
	memcpy(t->outmsg, msg, len);
	t->outmsg_len = len;
	t->on_read = on_read;
	flush_outmsg(t);
	return 0;
}

static void handle_write(struct hvsim_transport *t)
{
	uint8_t *buf;
	ssize_t n;
	int r;

	buf = calloc(1, WRITE_BUFFER_SIZE);
	if (!buf)
		return;
	n = recv(t->conn_fd, buf, WRITE_BUFFER_SIZE, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		free(buf);
		return;
	}
	if (n <= 0) {
		free(buf);
		connection_close(t);
		return;
	}
	t->in_write = true;
	r = t->svc->ops->on_msg(t->svc, buf, (size_t)n);
	t->in_write = false;
	free(buf);
	if (t->conn_fd < 0)
		return;
	if (send_frame(t->conn_fd, VMU_SOCK_WRITE, r < 0 ? -r : 0, NULL, 0) < 0) {
		connection_close(t);
		return;
	}
	flush_outmsg(t);
}

static int on_connection(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct hvsim_transport *t = userdata;

	if (revents & EPOLLOUT)
		flush_outmsg(t);
	if (t->conn_fd < 0)
		return 0;
	if (revents & EPOLLIN) {
		handle_write(t);
		return 0;
	}
	if (revents & (EPOLLHUP | EPOLLERR))
		connection_close(t);
	return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct hvsim_transport *t = userdata;
	int cfd, r;

	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return 0;
	if (t->conn_fd >= 0) {
		send_frame(cfd, VMU_SOCK_OPEN, EBUSY, NULL, 0);
		close(cfd);
		return 0;
	}
	r = sd_event_add_io(sd_event_source_get_event(s), &t->conn_src, cfd, EPOLLIN, on_connection,
			    t);
	if (r < 0 || send_frame(cfd, VMU_SOCK_OPEN, 0, NULL, 0) < 0) {
		t->conn_src = sd_event_source_disable_unref(t->conn_src);
		close(cfd);
		return 0;
	}
	t->conn_fd = cfd;
	return 0;
}

/* The socket is bound under a temporary name and renamed into place once it listens, so
 * that whoever waits for the path to appear can connect at once. */
int hvsim_transport_listen(struct hvsim_transport *t, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, r;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.%d~", path, (int)getpid()) >=
	    (int)sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0 ||
	    rename(sa.sun_path, path) < 0) {
		r = -errno;
		unlink(sa.sun_path);
		close(fd);
		return r;
	}
	r = sd_event_add_io(t->svc->sim->event, &t->listen_src, fd, EPOLLIN, on_accept, t);
	t->path = strdup(path);
	if (r < 0 || !t->path) {
		close(fd);
		unlink(path);
		free(t->path);
		t->path = NULL;
		return r < 0 ? r : -ENOMEM;
	}
	t->listen_fd = fd;
	return 0;
}

void hvsim_transport_done(struct hvsim_transport *t)
{
	t->conn_src = sd_event_source_disable_unref(t->conn_src);
	if (t->conn_fd >= 0)
		close(t->conn_fd);
	t->conn_fd = -1;
	drop_outmsg(t);
	t->listen_src = sd_event_source_disable_unref(t->listen_src);
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	t->listen_fd = -1;
	if (t->path)
		unlink(t->path);
	free(t->path);
	t->path = NULL;
}
