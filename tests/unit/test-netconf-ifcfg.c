/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the ifcfg SET_IP_INFO backend (daemons/kvp/netconf-ifcfg.c).
 *
 * A real NetworkManager cannot load ifcfg files here: Debian builds it without the
 * ifcfg-rh settings plugin. So the file is checked as text (golden files), the
 * network-scripts path runs fake ifup/ifdown scripts that log what they saw, and the
 * NetworkManager path talks to a tiny fake NetworkManager on a private dbus-daemon (sd-bus
 * vtables on a thread) that records the calls and answers like NM's documented D-Bus API:
 * NameHasOwner, Settings.LoadConnections, Settings.GetConnectionByUuid,
 * GetDeviceByIpIface, ActivateConnection, and the Filename, ActiveConnection, Connection
 * and State properties. That proves the calls and their order, not NM's reading of the
 * file: the golden text follows nm-settings-ifcfg-rh(5)'s keys.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "daemons/kvp/dhcp.h"
#include "daemons/kvp/netconf.h"
#include "shared/macro.h"
#include "shared/time-util.h"
#include "tests/netconf-cfg.h"

static const uint8_t mac[6] = {0x00, 0x15, 0x5d, 0xaa, 0xbb, 0x01};

#define OLD_UUID "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"

struct fixture {
	char *root, *dir, *path, *log, *ifup, *ifdown;
	struct netconf_env env;
};

static char *read_all(const char *path)
{
	char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) ? text : NULL;
}

static void write_text(const char *path, const char *text)
{
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static char *fake_tool(struct fixture *f, const char *name, int status)
{
	char *path = g_build_filename(f->root, name, NULL);
	g_autofree char *body = g_strdup_printf("#!/bin/sh\n"
						"echo \"%s $*\" >>'%s'\n"
						"sed 's/^/  | /' '%s' >>'%s' 2>/dev/null\n"
						"exit %d\n",
						name, f->log, f->path, f->log, status);

	write_text(path, body);
	g_assert_cmpint(g_chmod(path, 0755), ==, 0);
	return path;
}

static void fixture_set_up(struct fixture *f, gconstpointer data)
{
	g_autofree char *marker = NULL;

	(void)data;
	f->root = g_dir_make_tmp("test-netconf-ifcfg-XXXXXX", NULL);
	g_assert_nonnull(f->root);
	f->dir = g_build_filename(f->root, "etc", "sysconfig", "network-scripts", NULL);
	f->path = g_build_filename(f->dir, "ifcfg-eth0", NULL);
	f->log = g_build_filename(f->root, "log", NULL);
	g_assert_cmpint(g_mkdir_with_parents(f->dir, 0755), ==, 0);
	f->ifup = fake_tool(f, "ifup", 0);
	f->ifdown = fake_tool(f, "ifdown", 0);
	f->env = (struct netconf_env){
	    .ifcfg_dir = f->dir,
	    .ifup_path = f->ifup,
	    .ifdown_path = f->ifdown,
	    .bus_address = "", /* no bus: NetworkManager is not running */
	    .deadline_usec = now_usec() + 10 * 1000 * 1000ULL,
	};
	/* network-scripts are installed. */
	marker = g_build_filename(f->dir, "ifup-eth", NULL);
	write_text(marker, "#!/bin/sh\n");
	g_assert_cmpint(g_chmod(marker, 0755), ==, 0);
}

static void fixture_tear_down(struct fixture *f, gconstpointer data)
{
	const char *argv[] = {"/bin/rm", "-rf", f->root, NULL};

	(void)data;
	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
				   NULL, NULL, NULL));
	g_free(f->root);
	g_free(f->dir);
	g_free(f->path);
	g_free(f->log);
	g_free(f->ifup);
	g_free(f->ifdown);
}

static void static_cfg(struct netconf *cfg)
{
	netconf_cfg_init(cfg, "eth0", 2, mac);
	netconf_cfg_addr(cfg, "192.0.2.10", 24);
	netconf_cfg_addr(cfg, "2001:db8:1::10", 64);
	netconf_cfg_addr(cfg, "192.0.2.11", 25);
	netconf_cfg_addr(cfg, "2001:db8:1::11", 64);
	netconf_cfg_addr(cfg, "2001:db8:1::12", 80);
	netconf_cfg_gateway(cfg, "192.0.2.1");
	netconf_cfg_gateway(cfg, "2001:db8:1::1");
	netconf_cfg_dns(cfg, "192.0.2.53");
	netconf_cfg_dns(cfg, "2001:db8::53");
}

/* The file with its UUID= value replaced by "U", and the UUID in *ret_uuid. */
static char *without_uuid(const char *text, char **ret_uuid)
{
	const char *u = strstr(text, "\nUUID=");

	g_assert_nonnull(u);
	u += 6;
	*ret_uuid = g_strndup(u, 36);
	g_assert_true(g_uuid_string_is_valid(*ret_uuid));
	return g_strdup_printf("%.*sU%s", (int)(u - text), text, u + 36);
}

static const char static_golden[] = "# Written by hv-kvpd: the network settings the Hyper-V "
				    "host set for eth0.\n"
				    "# The host's next request replaces this file.\n"
				    "HWADDR=00:15:5D:AA:BB:01\n"
				    "DEVICE=eth0\n"
				    "NAME=hvguest-eth0\n"
				    "UUID=U\n"
				    "TYPE=Ethernet\n"
				    "ONBOOT=yes\n"
				    "BOOTPROTO=none\n"
				    "IPADDR0=192.0.2.10\n"
				    "PREFIX0=24\n"
				    "IPADDR1=192.0.2.11\n"
				    "PREFIX1=25\n"
				    "GATEWAY=192.0.2.1\n"
				    "DEFROUTE=yes\n"
				    "IPV6INIT=yes\n"
				    "IPV6_AUTOCONF=no\n"
				    "IPV6ADDR=2001:db8:1::10/64\n"
				    "IPV6ADDR_SECONDARIES=\"2001:db8:1::11/64 2001:db8:1::12/80\"\n"
				    "IPV6_DEFAULTGW=2001:db8:1::1\n"
				    "DNS1=192.0.2.53\n"
				    "DNS2=2001:db8::53\n"
				    "PEERDNS=no\n"
				    "IPV6_PEERDNS=no\n"
				    "NM_CONTROLLED=no\n";

static void test_scripts_static(struct fixture *f, gconstpointer data)
{
	g_autofree char *text = NULL, *masked = NULL, *uuid = NULL, *uuid2 = NULL, *log = NULL;
	static const char before[] = "DEVICE=eth0\nBOOTPROTO=dhcp\n";
	struct netconf cfg;
	void *saved = NULL;

	(void)data;
	static_cfg(&cfg);
	/* No file for eth0 yet: network-scripts do not manage it. */
	g_assert_cmpint(netconf_backend_ifcfg.manages(&f->env, &cfg.target), ==, 0);
	write_text(f->path, before);
	g_assert_cmpint(netconf_backend_ifcfg.manages(&f->env, &cfg.target), ==, 1);
	g_assert_cmpint(netconf_backend_ifcfg.save(&f->env, &cfg.target, &saved), ==, 0);
	g_assert_cmpint(netconf_backend_ifcfg.apply(&f->env, &cfg), ==, 0);
	text = read_all(f->path);
	masked = without_uuid(text, &uuid);
	g_assert_cmpstr(masked, ==, static_golden);
	/* ifdown saw the old file, ifup the new one. */
	log = read_all(f->log);
	g_assert_true(g_str_has_prefix(log, "ifdown eth0\n  | DEVICE=eth0\n  | BOOTPROTO=dhcp\n"
					    "ifup eth0\n  | # Written by hv-kvpd"));

	/* Again: the same UUID, so NetworkManager would see the same profile. */
	g_assert_cmpint(netconf_backend_ifcfg.apply(&f->env, &cfg), ==, 0);
	g_free(text);
	g_free(masked);
	text = read_all(f->path);
	masked = without_uuid(text, &uuid2);
	g_assert_cmpstr(uuid2, ==, uuid);

	g_assert_cmpint(g_unlink(f->log), ==, 0);
	g_assert_cmpint(netconf_backend_ifcfg.restore(&f->env, &cfg.target, saved), ==, 0);
	netconf_backend_ifcfg.free_saved(saved);
	g_free(text);
	text = read_all(f->path);
	g_assert_cmpstr(text, ==, before);
	g_free(log);
	log = read_all(f->log);
	g_assert_true(g_str_has_prefix(log, "ifdown eth0\n  | # Written by hv-kvpd"));
	g_assert_nonnull(strstr(log, "ifup eth0\n  | DEVICE=eth0\n  | BOOTPROTO=dhcp\n"));
}

static void test_dhcp_and_disabled(struct fixture *f, gconstpointer data)
{
	const struct dhcp_source src = {.root = f->root};
	g_autofree char *text = NULL, *masked = NULL, *uuid = NULL;
	enum dhcp_origin origin = DHCP_ORIGIN_NONE;
	struct netconf cfg;

	(void)data;
	netconf_cfg_init(&cfg, "eth0", 2, mac);
	netconf_cfg_dhcp(&cfg);
	g_assert_cmpint(netconf_backend_ifcfg.apply(&f->env, &cfg), ==, 0);
	text = read_all(f->path);
	masked = without_uuid(text, &uuid);
	g_assert_cmpstr(masked, ==,
			"# Written by hv-kvpd: the network settings the Hyper-V host set for "
			"eth0.\n# The host's next request replaces this file.\n"
			"HWADDR=00:15:5D:AA:BB:01\nDEVICE=eth0\nNAME=hvguest-eth0\nUUID=U\n"
			"TYPE=Ethernet\nONBOOT=yes\nBOOTPROTO=dhcp\nIPV6INIT=yes\n"
			"IPV6_AUTOCONF=yes\nNM_CONTROLLED=no\n");
	/* GET_IP_INFO's flag reads it back (network-scripts, no NM). */
	g_assert_true(dhcp_enabled_for_link(&src, 2, "eth0", &origin));
	g_assert_cmpint(origin, ==, DHCP_ORIGIN_IFCFG);

	/* Only IPv6 addresses: IPv4 disabled (no BOOTPROTO=dhcp, no IPADDR). */
	netconf_cfg_init(&cfg, "eth0", 2, mac);
	netconf_cfg_addr(&cfg, "2001:db8::5", 64);
	g_assert_cmpint(netconf_backend_ifcfg.apply(&f->env, &cfg), ==, 0);
	g_free(text);
	text = read_all(f->path);
	g_assert_nonnull(strstr(text, "BOOTPROTO=none\nIPV6INIT=yes\nIPV6_AUTOCONF=no\n"
				      "IPV6ADDR=2001:db8::5/64\nNM_CONTROLLED=no\n"));
	g_assert_null(strstr(text, "IPADDR"));
	g_assert_false(dhcp_enabled_for_link(&src, 2, "eth0", &origin));
}

static void test_refusals(struct fixture *f, gconstpointer data)
{
	struct netconf_env env = f->env;
	g_autofree char *failing = NULL;
	struct netconf cfg;

	(void)data;
	netconf_cfg_init(&cfg, "eth0", 2, mac);
	netconf_cfg_addr(&cfg, "192.0.2.10", 24);
	netconf_cfg_addr(&cfg, "192.0.2.11", 24);
	netconf_cfg_gateway(&cfg, "192.0.2.1");
	netconf_cfg_gateway(&cfg, "192.0.2.2");
	g_assert_cmpint(netconf_backend_ifcfg.apply(&env, &cfg), ==, -EINVAL);
	g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(f->log, G_FILE_TEST_EXISTS));
	cfg.n_gateways = 1;
	failing = fake_tool(f, "ifup-failing", 1);
	env.ifup_path = failing;
	g_assert_cmpint(netconf_backend_ifcfg.apply(&env, &cfg), ==, -EIO);
	/* No network-scripts (no ifup-eth) and no NM: not ours. */
	env.ifcfg_dir = f->root;
	g_assert_cmpint(netconf_backend_ifcfg.manages(&env, &cfg.target), ==, 0);
}

/* ---- a fake NetworkManager --------------------------------------------------------- */

#define MAX_OBJ 8
#define DEV_PATH "/org/freedesktop/NetworkManager/Devices/1"

struct fake_conn {
	char path[80], uuid[40];
	char *filename;
};

struct fake_active {
	char path[80];
	char *connection;
	uint32_t state;
};

struct fake_nm {
	char *dir, *address;
	GPid daemon;
	sd_bus *server;
	GThread *thread;
	int stop_fd;
	GMutex lock;
	GString *calls;
	struct fake_conn conns[MAX_OBJ];
	size_t n_conns;
	struct fake_active actives[MAX_OBJ];
	size_t n_actives;
	char *device_active; /* the Device's ActiveConnection */
	uint32_t outcome;    /* the State a new activation ends in */
};

static const sd_bus_vtable conn_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Filename", "s", NULL, offsetof(struct fake_conn, filename), 0),
    SD_BUS_VTABLE_END,
};

static const sd_bus_vtable active_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Connection", "o", NULL, offsetof(struct fake_active, connection), 0),
    SD_BUS_PROPERTY("State", "u", NULL, offsetof(struct fake_active, state), 0),
    SD_BUS_VTABLE_END,
};

static const sd_bus_vtable device_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("ActiveConnection", "o", NULL, offsetof(struct fake_nm, device_active), 0),
    SD_BUS_VTABLE_END,
};

static struct fake_conn *fake_add_conn(struct fake_nm *f, const char *uuid, const char *file)
{
	struct fake_conn *c = &f->conns[f->n_conns];

	g_assert_cmpuint(f->n_conns, <, MAX_OBJ);
	snprintf(c->path, sizeof(c->path), "/org/freedesktop/NetworkManager/Settings/%zu",
		 ++f->n_conns);
	g_strlcpy(c->uuid, uuid, sizeof(c->uuid));
	c->filename = g_strdup(file);
	g_assert_cmpint(sd_bus_add_object_vtable(f->server, NULL, c->path,
						 "org.freedesktop.NetworkManager.Settings."
						 "Connection",
						 conn_vtable, c),
			>=, 0);
	return c;
}

static struct fake_active *fake_add_active(struct fake_nm *f, const char *conn, uint32_t state)
{
	struct fake_active *a = &f->actives[f->n_actives];

	g_assert_cmpuint(f->n_actives, <, MAX_OBJ);
	snprintf(a->path, sizeof(a->path), "/org/freedesktop/NetworkManager/ActiveConnection/%zu",
		 ++f->n_actives);
	a->connection = g_strdup(conn);
	a->state = state;
	g_assert_cmpint(sd_bus_add_object_vtable(f->server, NULL, a->path,
						 "org.freedesktop.NetworkManager.Connection.Active",
						 active_vtable, a),
			>=, 0);
	return a;
}

static int m_get_device(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fake_nm *f = userdata;
	const char *ifname = NULL;
	int r = sd_bus_message_read(m, "s", &ifname);

	if (r < 0)
		return r;
	g_mutex_lock(&f->lock);
	g_string_append_printf(f->calls, "GetDeviceByIpIface %s\n", ifname);
	g_mutex_unlock(&f->lock);
	if (strcmp(ifname, "eth0") != 0)
		return sd_bus_error_set(error, "org.freedesktop.NetworkManager.UnknownDevice",
					"No device found for the requested iface.");
	return sd_bus_reply_method_return(m, "o", DEV_PATH);
}

static int m_activate(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fake_nm *f = userdata;
	const char *conn = NULL, *dev = NULL, *specific = NULL;
	struct fake_active *a;
	int r = sd_bus_message_read(m, "ooo", &conn, &dev, &specific);

	(void)error;
	if (r < 0)
		return r;
	g_mutex_lock(&f->lock);
	g_string_append_printf(f->calls, "ActivateConnection %s %s %s\n", conn, dev, specific);
	a = fake_add_active(f, conn, f->outcome);
	if (f->outcome == 2) {
		g_free(f->device_active);
		f->device_active = g_strdup(a->path);
	}
	g_mutex_unlock(&f->lock);
	return sd_bus_reply_method_return(m, "o", a->path);
}

/* UUID= of an ifcfg file, as NM's plugin would find it. */
static char *uuid_of(const char *file)
{
	g_autofree char *text = read_all(file);
	const char *u = text ? strstr(text, "\nUUID=") : NULL;

	return u ? g_strndup(u + 6, 36) : NULL;
}

static int m_load(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fake_nm *f = userdata;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	g_auto(GStrv) files = NULL;
	g_autoptr(GPtrArray) failed = g_ptr_array_new();
	int r = sd_bus_message_read_strv(m, &files);

	(void)error;
	if (r < 0)
		return r;
	g_mutex_lock(&f->lock);
	for (size_t i = 0; files[i]; i++) {
		g_autofree char *uuid = uuid_of(files[i]);
		bool known = false;

		g_string_append_printf(f->calls, "LoadConnections %s\n", files[i]);
		if (!uuid) {
			g_ptr_array_add(failed, files[i]);
			continue;
		}
		for (size_t j = 0; j < f->n_conns; j++)
			known |= strcmp(f->conns[j].uuid, uuid) == 0;
		if (!known)
			fake_add_conn(f, uuid, files[i]);
	}
	g_mutex_unlock(&f->lock);
	g_ptr_array_add(failed, NULL);
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append(reply, "b", failed->len == 1);
	if (r >= 0)
		r = sd_bus_message_append_strv(reply, (char **)failed->pdata);
	return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int m_by_uuid(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fake_nm *f = userdata;
	const char *uuid = NULL, *found = NULL;
	int r = sd_bus_message_read(m, "s", &uuid);

	if (r < 0)
		return r;
	g_mutex_lock(&f->lock);
	g_string_append_printf(f->calls, "GetConnectionByUuid %s\n", uuid);
	for (size_t j = 0; j < f->n_conns; j++)
		if (strcmp(f->conns[j].uuid, uuid) == 0)
			found = f->conns[j].path;
	g_mutex_unlock(&f->lock);
	if (!found)
		return sd_bus_error_set(error,
					"org.freedesktop.NetworkManager.Settings.InvalidConnection",
					"No connection with the UUID was found.");
	return sd_bus_reply_method_return(m, "o", found);
}

static const sd_bus_vtable nm_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("GetDeviceByIpIface", "s", "o", m_get_device, 0),
    SD_BUS_METHOD("ActivateConnection", "ooo", "o", m_activate, 0),
    SD_BUS_VTABLE_END,
};

static const sd_bus_vtable settings_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("LoadConnections", "as", "bas", m_load, 0),
    SD_BUS_METHOD("GetConnectionByUuid", "s", "o", m_by_uuid, 0),
    SD_BUS_VTABLE_END,
};

static gpointer serve_thread(gpointer data)
{
	struct fake_nm *f = data;

	for (;;) {
		struct pollfd p[2] = {{.fd = sd_bus_get_fd(f->server)},
				      {.fd = f->stop_fd, .events = POLLIN}};

		while (sd_bus_process(f->server, NULL) > 0)
			;
		p[0].events = (short)sd_bus_get_events(f->server);
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
	}
	return NULL;
}

static void die_with_parent(gpointer data)
{
	(void)data;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static char *start_dbus_daemon(const char *dir, GPid *ret_pid)
{
	g_autofree char *conf = g_build_filename(dir, "bus.conf", NULL);
	g_autofree char *text = g_strdup_printf(
	    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" "
	    "\"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	    "<busconfig><type>session</type><listen>unix:path=%s/bus</listen>"
	    "<policy context=\"default\"><allow send_destination=\"*\"/><allow own=\"*\"/>"
	    "<allow receive_sender=\"*\"/><allow user=\"*\"/>"
	    "</policy></busconfig>\n",
	    dir);
	g_autofree char *arg = g_strdup_printf("--config-file=%s", conf);
	const char *argv[] = {"dbus-daemon", arg, "--nofork", "--print-address=1", NULL};
	char line[512];
	ssize_t n;
	size_t len = 0;
	int out = -1;

	g_assert_true(g_file_set_contents(conf, text, -1, NULL));
	if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
				      G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL |
					  G_SPAWN_DO_NOT_REAP_CHILD,
				      die_with_parent, NULL, ret_pid, NULL, &out, NULL, NULL))
		return NULL;
	while (len < sizeof(line) - 1 && (n = read(out, line + len, sizeof(line) - 1 - len)) > 0) {
		len += (size_t)n;
		if (memchr(line, '\n', len))
			break;
	}
	close(out);
	line[len] = '\0';
	g_strchomp(line);
	return len > 0 ? g_strdup(line) : NULL;
}

static bool fake_nm_start(struct fake_nm *f, bool own_name)
{
	*f = (struct fake_nm){.stop_fd = -1, .outcome = 2};
	g_mutex_init(&f->lock);
	f->calls = g_string_new(NULL);
	f->device_active = g_strdup("/");
	f->dir = g_dir_make_tmp("test-ifcfg-bus-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->address = start_dbus_daemon(f->dir, &f->daemon);
	if (!f->address)
		return false;
	g_assert_cmpint(sd_bus_new(&f->server), >=, 0);
	g_assert_cmpint(sd_bus_set_address(f->server, f->address), >=, 0);
	g_assert_cmpint(sd_bus_set_bus_client(f->server, 1), >=, 0);
	g_assert_cmpint(sd_bus_start(f->server), >=, 0);
	g_assert_cmpint(sd_bus_add_object_vtable(f->server, NULL, "/org/freedesktop/NetworkManager",
						 "org.freedesktop.NetworkManager", nm_vtable, f),
			>=, 0);
	g_assert_cmpint(
	    sd_bus_add_object_vtable(f->server, NULL, "/org/freedesktop/NetworkManager/Settings",
				     "org.freedesktop.NetworkManager.Settings", settings_vtable, f),
	    >=, 0);
	g_assert_cmpint(sd_bus_add_object_vtable(f->server, NULL, DEV_PATH,
						 "org.freedesktop.NetworkManager.Device",
						 device_vtable, f),
			>=, 0);
	if (own_name)
		g_assert_cmpint(sd_bus_request_name(f->server, "org.freedesktop.NetworkManager", 0),
				>=, 0);
	f->stop_fd = eventfd(0, EFD_CLOEXEC);
	g_assert_cmpint(f->stop_fd, >=, 0);
	return true;
}

static void fake_nm_serve(struct fake_nm *f)
{
	f->thread = g_thread_new("fake-nm", serve_thread, f);
}

static void fake_nm_stop(struct fake_nm *f)
{
	const char *argv_rm[] = {"rm", "-rf", f->dir, NULL};

	if (f->thread) {
		uint64_t one = 1;

		g_assert_cmpint(write(f->stop_fd, &one, sizeof(one)), ==, sizeof(one));
		g_thread_join(f->thread);
	}
	if (f->stop_fd >= 0)
		close(f->stop_fd);
	if (f->server)
		sd_bus_flush_close_unref(f->server);
	if (f->daemon > 0) {
		kill(f->daemon, SIGTERM);
		waitpid(f->daemon, NULL, 0);
	}
	g_spawn_sync(NULL, (char **)argv_rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
		     NULL, NULL);
	for (size_t i = 0; i < f->n_conns; i++)
		g_free(f->conns[i].filename);
	for (size_t i = 0; i < f->n_actives; i++)
		g_free(f->actives[i].connection);
	g_free(f->device_active);
	g_string_free(f->calls, TRUE);
	g_mutex_clear(&f->lock);
	g_free(f->dir);
	g_free(f->address);
}

static char *take_calls(struct fake_nm *f)
{
	char *s;

	g_mutex_lock(&f->lock);
	s = g_strdup(f->calls->str);
	g_string_truncate(f->calls, 0);
	g_mutex_unlock(&f->lock);
	return s;
}

static bool skip_without_dbus(void)
{
	g_autofree char *dbus_daemon = g_find_program_in_path("dbus-daemon");

	if (!dbus_daemon)
		g_test_skip("dbus-daemon is not installed (apt-get install dbus)");
	return !dbus_daemon;
}

static void test_networkmanager(struct fixture *f, gconstpointer data)
{
	static const char before[] = "DEVICE=eth0\nUUID=\"" OLD_UUID "\"\nBOOTPROTO=dhcp\n";
	g_autofree char *calls = NULL, *want = NULL, *text = NULL;
	struct netconf_env env = f->env;
	struct fake_conn *keyfile, *profile;
	struct fake_nm nm;
	struct netconf cfg;
	void *saved = NULL;

	(void)data;
	if (skip_without_dbus())
		return;
	if (!fake_nm_start(&nm, true)) {
		fake_nm_stop(&nm);
		g_test_skip("could not start a private dbus-daemon");
		return;
	}
	env.bus_address = nm.address;
	write_text(f->path, before);
	keyfile = fake_add_conn(&nm, "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
				"/etc/NetworkManager/system-connections/Wired.nmconnection");
	profile = fake_add_conn(&nm, OLD_UUID, f->path);
	g_free(nm.device_active);
	nm.device_active = g_strdup(fake_add_active(&nm, keyfile->path, 2)->path);
	fake_nm_serve(&nm);
	static_cfg(&cfg);

	/* A keyfile profile is active: not ours (the keyfile backend's). */
	g_assert_cmpint(netconf_backend_ifcfg.manages(&env, &cfg.target), ==, 0);
	g_mutex_lock(&nm.lock);
	g_free(nm.device_active);
	nm.device_active = g_strdup(fake_add_active(&nm, profile->path, 2)->path);
	g_mutex_unlock(&nm.lock);
	g_assert_cmpint(netconf_backend_ifcfg.manages(&env, &cfg.target), ==, 1);
	g_free(take_calls(&nm));

	g_assert_cmpint(netconf_backend_ifcfg.save(&env, &cfg.target, &saved), ==, 0);
	g_assert_cmpint(netconf_backend_ifcfg.apply(&env, &cfg), ==, 0);
	text = read_all(f->path);
	/* The profile keeps its UUID; NM controls it. */
	g_assert_nonnull(strstr(text, "\nUUID=" OLD_UUID "\n"));
	g_assert_true(g_str_has_suffix(text, "\nNM_CONTROLLED=yes\n"));
	g_assert_nonnull(strstr(text, "\nIPADDR0=192.0.2.10\nPREFIX0=24\n"));
	calls = take_calls(&nm);
	want = g_strdup_printf("GetDeviceByIpIface eth0\n" /* save() */
			       "LoadConnections %s\n"
			       "GetConnectionByUuid " OLD_UUID "\n"
			       "GetDeviceByIpIface eth0\n"
			       "ActivateConnection %s " DEV_PATH " /\n",
			       f->path, profile->path);
	g_assert_cmpstr(calls, ==, want);
	/* No ifup/ifdown with NetworkManager. */
	g_assert_false(g_file_test(f->log, G_FILE_TEST_EXISTS));

	/* NM fails the activation: apply() says so; restore() reloads the old file and
	 * activates the profile that was active before. */
	g_mutex_lock(&nm.lock);
	nm.outcome = 4;
	g_mutex_unlock(&nm.lock);
	netconf_cfg_addr(&cfg, "198.51.100.9", 24);
	g_assert_cmpint(netconf_backend_ifcfg.apply(&env, &cfg), ==, -EIO);
	g_mutex_lock(&nm.lock);
	nm.outcome = 2;
	g_mutex_unlock(&nm.lock);
	g_free(take_calls(&nm));
	g_assert_cmpint(netconf_backend_ifcfg.restore(&env, &cfg.target, saved), ==, 0);
	netconf_backend_ifcfg.free_saved(saved);
	g_free(text);
	text = read_all(f->path);
	g_assert_cmpstr(text, ==, before);
	g_free(calls);
	g_free(want);
	calls = take_calls(&nm);
	want = g_strdup_printf("LoadConnections %s\nGetDeviceByIpIface eth0\n"
			       "ActivateConnection %s " DEV_PATH " /\n",
			       f->path, profile->path);
	g_assert_cmpstr(calls, ==, want);
	fake_nm_stop(&nm);
}

static void test_networkmanager_new_file(struct fixture *f, gconstpointer data)
{
	g_autofree char *calls = NULL, *want = NULL;
	struct netconf_env env = f->env;
	struct fake_conn *keyfile;
	struct fake_nm nm;
	struct netconf cfg;
	void *saved = NULL;

	(void)data;
	if (skip_without_dbus())
		return;
	if (!fake_nm_start(&nm, true)) {
		fake_nm_stop(&nm);
		g_test_skip("could not start a private dbus-daemon");
		return;
	}
	env.bus_address = nm.address;
	keyfile = fake_add_conn(&nm, "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
				"/etc/NetworkManager/system-connections/Wired.nmconnection");
	g_free(nm.device_active);
	nm.device_active = g_strdup(fake_add_active(&nm, keyfile->path, 2)->path);
	fake_nm_serve(&nm);
	netconf_cfg_init(&cfg, "eth0", 2, mac);
	netconf_cfg_addr(&cfg, "192.0.2.10", 24);

	/* No ifcfg file before: a new profile with a fresh UUID, activated. */
	g_assert_cmpint(netconf_backend_ifcfg.save(&env, &cfg.target, &saved), ==, 0);
	g_assert_cmpint(netconf_backend_ifcfg.apply(&env, &cfg), ==, 0);
	g_assert_cmpuint(nm.n_conns, ==, 2);
	g_assert_true(g_uuid_string_is_valid(nm.conns[1].uuid));
	g_free(take_calls(&nm));
	/* The rollback removes the file; NM reports the vanished file as not loaded, which
	 * does not fail the rollback; the keyfile profile is active again. */
	g_assert_cmpint(netconf_backend_ifcfg.restore(&env, &cfg.target, saved), ==, 0);
	netconf_backend_ifcfg.free_saved(saved);
	g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
	calls = take_calls(&nm);
	want = g_strdup_printf("LoadConnections %s\nGetDeviceByIpIface eth0\n"
			       "ActivateConnection %s " DEV_PATH " /\n",
			       f->path, keyfile->path);
	g_assert_cmpstr(calls, ==, want);
	fake_nm_stop(&nm);
}

static void test_nm_not_running(struct fixture *f, gconstpointer data)
{
	struct netconf_env env = f->env;
	struct fake_nm nm;
	struct netconf cfg;
	g_autofree char *log = NULL;

	(void)data;
	if (skip_without_dbus())
		return;
	/* A bus where nobody owns NetworkManager's name: network-scripts apply it. */
	if (!fake_nm_start(&nm, false)) {
		fake_nm_stop(&nm);
		g_test_skip("could not start a private dbus-daemon");
		return;
	}
	fake_nm_serve(&nm);
	env.bus_address = nm.address;
	netconf_cfg_init(&cfg, "eth0", 2, mac);
	netconf_cfg_dhcp(&cfg);
	g_assert_cmpint(netconf_backend_ifcfg.apply(&env, &cfg), ==, 0);
	log = read_all(f->log);
	g_assert_true(g_str_has_prefix(log, "ifup eth0\n"));
	g_assert_cmpstr(nm.calls->str, ==, "");
	fake_nm_stop(&nm);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, fixture_set_up, fn, fixture_tear_down)
	ADD("/netconf/ifcfg/scripts-static", test_scripts_static);
	ADD("/netconf/ifcfg/dhcp-and-disabled", test_dhcp_and_disabled);
	ADD("/netconf/ifcfg/refusals", test_refusals);
	ADD("/netconf/ifcfg/networkmanager-fake", test_networkmanager);
	ADD("/netconf/ifcfg/networkmanager-new-file", test_networkmanager_new_file);
	ADD("/netconf/ifcfg/networkmanager-not-running", test_nm_not_running);
#undef ADD
	return g_test_run();
}
