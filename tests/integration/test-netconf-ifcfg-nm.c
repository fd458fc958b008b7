/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ifcfg SET_IP_INFO backend against the real NetworkManager, as far as Debian's build
 * allows: it has no ifcfg-rh plugin, so NM cannot load an ifcfg file. What is real here is
 * every D-Bus call of the backend and NM's answers to them:
 *
 *   - manages(): GetDeviceByIpIface -> Device.ActiveConnection -> Active.Connection ->
 *     Settings.Connection.Filename, against a keyfile profile that NM activated by itself.
 *     Named "ifcfg-hvt0" in the keyfile directory (which the test passes as ifcfg_dir), it
 *     counts as ours; under its usual name it does not;
 *   - apply(): LoadConnections([the ifcfg file]) is refused by this NM (no plugin): apply()
 *     fails with -EIO instead of pretending;
 *   - restore(): the saved file (the keyfile) is put back, LoadConnections reloads it and
 *     ActivateConnection + the State polling bring the profile up again; its address is
 *     read back from the kernel.
 *
 * Sandbox: root only; a private network, mount and UTS namespace; tmpfs over /run,
 * /etc/NetworkManager and /var/lib/NetworkManager, a fresh read-only sysfs (NM then does
 * not wait for udev); a private dbus-daemon as NM's system bus; NM with dns=none,
 * rc-manager=unmanaged and hostname-mode=none. Both daemons die with the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <net/if.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "daemons/kvp/netconf.h"
#include "shared/macro.h"
#include "shared/time-util.h"
#include "tests/netconf-cfg.h"
#include "tests/sandbox.h"

#define IFNAME "hvt0"
#define KEYFILE_DIR "/etc/NetworkManager/system-connections"
#define PROFILE_UUID "cccccccc-cccc-4ccc-8ccc-cccccccccccc"

static const uint8_t mac[6] = {0x00, 0x15, 0x5d, 0xaa, 0xbb, 0x01};
static const char *skip_reason;
static char *tmpdir, *bus_address, *ip_path;
static GPid bus_pid, nm_pid;

static const char keyfile[] = "[connection]\n"
			      "id=hvt\n"
			      "uuid=" PROFILE_UUID "\n"
			      "type=ethernet\n"
			      "interface-name=" IFNAME "\n"
			      "autoconnect=true\n"
			      "[ipv4]\n"
			      "method=manual\n"
			      "address1=198.51.100.7/24\n"
			      "[ipv6]\n"
			      "method=ignore\n";

static char *find_tool(const char *name)
{
	const char *dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};

	for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
		char *p = g_build_filename(dirs[i], name, NULL);

		if (access(p, X_OK) == 0)
			return p;
		g_free(p);
	}
	return NULL;
}

static char *ip_addrs(void)
{
	const char *argv[] = {ip_path, "-o", "-4", "addr", "show", "dev", IFNAME, NULL};
	char *out = NULL;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
				   NULL, &out, NULL, NULL, NULL));
	return out;
}

static void die_with_parent(gpointer data)
{
	(void)data;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static bool write_file(const char *path, const char *text, int mode)
{
	return g_file_set_contents(path, text, -1, NULL) && g_chmod(path, mode) == 0;
}

static bool start_bus(void)
{
	g_autofree char *conf = g_build_filename(tmpdir, "bus.conf", NULL);
	g_autofree char *text = g_strdup_printf(
	    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" "
	    "\"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	    "<busconfig><type>system</type><listen>unix:path=%s/bus</listen>"
	    "<policy context=\"default\"><allow send_destination=\"*\"/><allow own=\"*\"/>"
	    "<allow receive_sender=\"*\"/><allow user=\"*\"/></policy></busconfig>\n",
	    tmpdir);
	g_autofree char *arg = g_strdup_printf("--config-file=%s", conf);
	const char *argv[] = {"dbus-daemon", arg, "--nofork", "--print-address=1", NULL};
	char line[512];
	size_t len = 0;
	ssize_t n;
	int out = -1;

	if (!write_file(conf, text, 0644) ||
	    !g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
				      G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL |
					  G_SPAWN_DO_NOT_REAP_CHILD,
				      die_with_parent, NULL, &bus_pid, NULL, &out, NULL, NULL))
		return false;
	while (len < sizeof(line) - 1 && (n = read(out, line + len, sizeof(line) - 1 - len)) > 0) {
		len += (size_t)n;
		if (memchr(line, '\n', len))
			break;
	}
	close(out);
	line[len] = '\0';
	g_strchomp(line);
	bus_address = len > 0 ? g_strdup(line) : NULL;
	return bus_address != NULL;
}

static bool start_nm(const char *nm)
{
	g_autofree char *conf = g_build_filename(tmpdir, "nm.conf", NULL);
	g_autofree char *conf_arg = g_strdup_printf("--config=%s", conf);
	g_autofree char *log = g_build_filename(tmpdir, "nm.log", NULL);
	g_autofree char *env_bus = g_strdup_printf("DBUS_SYSTEM_BUS_ADDRESS=%s", bus_address);
	const char *argv[] = {nm, "--no-daemon", "--debug", conf_arg, NULL};
	const char *envp[] = {env_bus, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	int fd;

	if (!write_file(conf,
			"[main]\nplugins=keyfile\ndns=none\nrc-manager=unmanaged\n"
			"hostname-mode=none\n[logging]\nlevel=INFO\n"
			"[device]\nmatch-device=*\nmanaged=1\n",
			0644))
		return false;
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return false;
	if (!g_spawn_async_with_fds(NULL, (char **)argv, (char **)envp, G_SPAWN_DO_NOT_REAP_CHILD,
				    die_with_parent, NULL, &nm_pid, -1, fd, fd, NULL)) {
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

/* NM up and the profile's address on the device, within 20 s. */
static bool wait_for_activation(void)
{
	uint64_t until = now_usec() + 20 * 1000 * 1000ULL;

	while (now_usec() < until) {
		g_autofree char *addrs = ip_addrs();

		if (strstr(addrs, "198.51.100.7/24"))
			return true;
		g_usleep(100 * 1000);
	}
	return false;
}

static void stop_daemons(void)
{
	if (nm_pid > 0) {
		kill(nm_pid, SIGTERM);
		waitpid(nm_pid, NULL, 0);
		nm_pid = 0;
	}
	if (bus_pid > 0) {
		kill(bus_pid, SIGTERM);
		waitpid(bus_pid, NULL, 0);
		bus_pid = 0;
	}
}

static struct netconf_env make_env(void)
{
	return (struct netconf_env){
	    .ifcfg_dir = KEYFILE_DIR,
	    .ifup_path = "/nonexistent/ifup",
	    .ifdown_path = "/nonexistent/ifdown",
	    .bus_address = bus_address,
	    .deadline_usec = now_usec() + 20 * 1000 * 1000ULL,
	};
}

static void test_real_nm(void)
{
	g_autofree char *path = g_build_filename(KEYFILE_DIR, "ifcfg-" IFNAME, NULL);
	g_autofree char *other = g_build_filename(tmpdir, "elsewhere", NULL);
	g_autofree char *text = NULL, *addrs = NULL;
	struct netconf_env env = make_env();
	struct netconf cfg;
	void *saved = NULL;

	if (skip_reason) {
		g_test_skip(skip_reason);
		return;
	}
	netconf_cfg_init(&cfg, IFNAME, (int)if_nametoindex(IFNAME), mac);
	netconf_cfg_addr(&cfg, "192.0.2.10", 24);

	/* The active profile's file is <ifcfg_dir>/ifcfg-hvt0: ours. */
	g_assert_cmpint(netconf_backend_ifcfg.manages(&env, &cfg.target), ==, 1);
	/* The same profile seen from another ifcfg_dir: not ours. */
	env.ifcfg_dir = other;
	g_assert_cmpint(netconf_backend_ifcfg.manages(&env, &cfg.target), ==, 0);
	env.ifcfg_dir = KEYFILE_DIR;

	g_assert_cmpint(netconf_backend_ifcfg.save(&env, &cfg.target, &saved), ==, 0);
	/* This NM cannot load an ifcfg file: a failure, not a pretended success. */
	g_assert_cmpint(netconf_backend_ifcfg.apply(&env, &cfg), ==, -EIO);
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_true(g_str_has_prefix(text, "# Written by hv-kvpd"));

	/* The rollback: the keyfile back, reloaded, and activated again by NM. */
	g_assert_cmpint(netconf_backend_ifcfg.restore(&env, &cfg.target, saved), ==, 0);
	netconf_backend_ifcfg.free_saved(saved);
	g_free(text);
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, keyfile);
	addrs = ip_addrs();
	g_assert_nonnull(strstr(addrs, "198.51.100.7/24"));
	g_assert_cmpint(netconf_backend_ifcfg.manages(&env, &cfg.target), ==, 1);
}

static void setup(void)
{
	const char *tmpfs_dirs[] = {"/run", "/etc/NetworkManager", "/var/lib/NetworkManager"};
	g_autofree char *nm = find_tool("NetworkManager"), *dbus = find_tool("dbus-daemon");
	g_autofree char *path = NULL;

	ip_path = find_tool("ip");
	if (!nm || !dbus || !ip_path) {
		skip_reason = "NetworkManager, dbus-daemon or iproute2 is not installed";
		return;
	}
	skip_reason = sandbox_enter(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS);
	if (skip_reason)
		return;
	tmpdir = g_dir_make_tmp("test-netconf-ifcfg-nm-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);
	for (size_t i = 0; i < G_N_ELEMENTS(tmpfs_dirs); i++)
		if (g_mkdir_with_parents(tmpfs_dirs[i], 0755) < 0 ||
		    mount("tmpfs", tmpfs_dirs[i], "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
			skip_reason = "cannot lay tmpfs over NetworkManager's directories";
			return;
		}
	/* A sysfs of this network namespace, read-only: NM does not wait for udev. */
	if (mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) <
	    0) {
		skip_reason = "cannot mount a private sysfs";
		return;
	}
	g_assert_cmpint(g_mkdir_with_parents(KEYFILE_DIR, 0755), ==, 0);
	path = g_build_filename(KEYFILE_DIR, "ifcfg-" IFNAME, NULL);
	g_assert_true(write_file(path, keyfile, 0600));
	{
		const char *lo[] = {ip_path, "link", "set", "lo", "up", NULL};
		const char *add[] = {
		    ip_path, "link", "add",  IFNAME, "address",  "00:15:5d:aa:bb:01",
		    "type",  "veth", "peer", "name", IFNAME "p", NULL};
		const char *up[] = {ip_path, "link", "set", IFNAME "p", "up", NULL};
		int status = 0;

		g_assert_true(g_spawn_sync(NULL, (char **)lo, NULL, G_SPAWN_DEFAULT, NULL, NULL,
					   NULL, NULL, &status, NULL));
		g_assert_true(g_spawn_sync(NULL, (char **)add, NULL, G_SPAWN_DEFAULT, NULL, NULL,
					   NULL, NULL, &status, NULL));
		g_assert_true(g_spawn_check_wait_status(status, NULL));
		g_assert_true(g_spawn_sync(NULL, (char **)up, NULL, G_SPAWN_DEFAULT, NULL, NULL,
					   NULL, NULL, &status, NULL));
	}
	if (!start_bus()) {
		skip_reason = "could not start a private dbus-daemon";
		return;
	}
	if (!start_nm(nm)) {
		skip_reason = "could not start NetworkManager";
		return;
	}
	if (!wait_for_activation())
		skip_reason = "NetworkManager did not activate the test profile in this sandbox";
}

int main(int argc, char **argv)
{
	int r;

	g_test_init(&argc, &argv, NULL);
	setup();
	g_test_add_func("/netconf/ifcfg/real-networkmanager", test_real_nm);
	r = g_test_run();
	stop_daemons();
	if (tmpdir) {
		const char *rm[] = {"/bin/rm", "-rf", tmpdir, NULL};

		g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, NULL,
			     NULL);
	}
	return r;
}
