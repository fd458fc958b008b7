/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of hv-kvpd's DNS sources (daemons/kvp/dns.c), DHCP flag sources
 * (daemons/kvp/dhcp.c), and netconf_run() (daemons/kvp/netconf-file.c), the SET_IP_INFO
 * wrapper over the one runner hvd_run() (tested itself in test-hvd-spawn.c).
 *
 * resolv.conf and the network managers' files come from fixtures under
 * tests/unit/fixtures/net. systemd-resolved is faked: a private dbus-daemon in a temporary
 * directory, and a thread that owns org.freedesktop.resolve1 on it and serves the Manager's
 * DNS property from a table. Scripts are written by the test into a temporary directory.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "daemons/kvp/dhcp.h"
#include "daemons/kvp/dns.h"
#include "daemons/kvp/netconf.h"
#include "daemons/kvp/netinfo.h"
#include "shared/time-util.h"

#define FIX NET_FIXTURES_DIR

static char *tmpdir;

static void assert_strv(char **got, const char *const *want)
{
	g_assert_cmpuint(g_strv_length(got), ==, g_strv_length((char **)want));
	for (size_t i = 0; want[i]; i++)
		g_assert_cmpstr(got[i], ==, want[i]);
}

/* ---- resolv.conf ------------------------------------------------------------------- */

static void test_resolv_conf_messy(void)
{
	const char *const want[] = {"192.0.2.1", "fe80::1", "2001:db8::1", "192.0.2.2", NULL};
	char **servers = NULL;

	g_assert_cmpint(dns_servers_from_resolv_conf(FIX "/resolv/messy.conf", &servers), ==, 0);
	assert_strv(servers, want);
	g_strfreev(servers);
}

static void test_resolv_conf_missing(void)
{
	char **servers = (char **)"untouched";
	enum dns_origin origin = (enum dns_origin)77;
	const struct dns_source src = {.resolv_conf = FIX "/resolv/nonexistent.conf",
				       .bus_address = ""};

	g_assert_cmpint(dns_servers_from_resolv_conf(FIX "/resolv/nonexistent.conf", &servers), ==,
			-ENOENT);
	g_assert_cmpint(dns_servers_for_link(&src, 2, &servers, &origin), ==, -ENOENT);
	g_assert_cmpstr((const char *)servers, ==, "untouched");
	g_assert_cmpint(origin, ==, 77);
	g_assert_cmpint(dns_servers_from_resolv_conf(FIX "/resolv", &servers), ==, -EISDIR);
}

static void test_resolv_conf_stub_reported(void)
{
	const char *const want[] = {"127.0.0.53", NULL};
	const struct dns_source src = {.resolv_conf = FIX "/resolv/stub.conf",
				       .bus_address = "unix:path=/nonexistent/bus"};
	enum dns_origin origin = DNS_ORIGIN_RESOLVED;
	char **servers = NULL;

	/* resolved is unreachable: the stub is what the guest uses, so it is reported. */
	g_assert_cmpint(dns_servers_for_link(&src, 2, &servers, &origin), ==, 0);
	g_assert_cmpint(origin, ==, DNS_ORIGIN_RESOLV_CONF);
	assert_strv(servers, want);
	g_strfreev(servers);
}

static void test_resolv_conf_parser_bounds(void)
{
	g_autoptr(GString) text = g_string_new(NULL);
	char **servers;

	for (int i = 0; i < DNS_MAX_SERVERS + 5; i++)
		g_string_append_printf(text, "nameserver 10.0.0.%d\n", i);
	servers = dns_parse_resolv_conf(text->str);
	g_assert_cmpuint(g_strv_length(servers), ==, DNS_MAX_SERVERS);
	g_assert_cmpstr(servers[DNS_MAX_SERVERS - 1], ==, "10.0.0.31");
	g_strfreev(servers);
	servers = dns_parse_resolv_conf("");
	g_assert_cmpuint(g_strv_length(servers), ==, 0);
	g_strfreev(servers);
	servers = dns_parse_resolv_conf(NULL);
	g_assert_cmpuint(g_strv_length(servers), ==, 0);
	g_strfreev(servers);
	/* No trailing newline; CRLF; 46-character IPv6 text. */
	servers = dns_parse_resolv_conf("nameserver 192.0.2.9\r\nnameserver "
					"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	g_assert_cmpuint(g_strv_length(servers), ==, 2);
	g_assert_cmpstr(servers[0], ==, "192.0.2.9");
	g_assert_cmpstr(servers[1], ==, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	g_strfreev(servers);
}

/* ---- fake systemd-resolved --------------------------------------------------------- */

struct dns_entry {
	int32_t ifindex, family;
	uint8_t addr[16];
	size_t len;
};

static const struct dns_entry fake_entries[] = {
    {0, AF_INET, {9, 9, 9, 9}, 4},
    {2, AF_INET, {10, 0, 0, 53}, 4},
    {2, AF_INET6, {0x20, 0x01, 0x0d, 0xb8, [15] = 0x53}, 16},
    {2, AF_INET, {1, 2, 3, 4, 5, 6}, 6}, /* wrong length: skipped */
    {2, 99, {1, 2, 3, 4}, 4},            /* unknown family: skipped */
    {7, AF_INET, {192, 0, 2, 7}, 4},
    {0, AF_INET6, {0x26, 0x20, 0x00, 0xfe, [15] = 0xfe}, 16},
};

struct fake_resolved {
	char *dir;
	char *address;
	GPid daemon;
	sd_bus *server;
	GThread *thread;
	int stop_fd;
	atomic_bool serve;
};

static int get_dns(sd_bus *bus, const char *path, const char *interface, const char *property,
		   sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	int r = sd_bus_message_open_container(reply, 'a', "(iiay)");

	for (size_t i = 0; r >= 0 && i < G_N_ELEMENTS(fake_entries); i++) {
		const struct dns_entry *e = &fake_entries[i];

		r = sd_bus_message_open_container(reply, 'r', "iiay");
		if (r >= 0)
			r = sd_bus_message_append(reply, "ii", e->ifindex, e->family);
		if (r >= 0)
			r = sd_bus_message_append_array(reply, 'y', e->addr, e->len);
		if (r >= 0)
			r = sd_bus_message_close_container(reply);
	}
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static const sd_bus_vtable manager_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("DNS", "a(iiay)", get_dns, 0, 0),
    SD_BUS_VTABLE_END,
};

static gpointer serve_thread(gpointer data)
{
	struct fake_resolved *f = data;

	for (;;) {
		struct pollfd p[2] = {{.fd = sd_bus_get_fd(f->server)},
				      {.fd = f->stop_fd, .events = POLLIN}};
		int r;

		while (atomic_load(&f->serve) && (r = sd_bus_process(f->server, NULL)) > 0)
			;
		p[0].events = (short)sd_bus_get_events(f->server);
		if (!atomic_load(&f->serve))
			p[0].events = 0;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
	}
	return NULL;
}

/* The private bus never outlives a test that failed an assertion. */
static void die_with_parent(gpointer data)
{
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
	g_autoptr(GError) error = NULL;
	char line[512];
	ssize_t n;
	size_t len = 0;
	int out = -1;

	g_assert_true(g_file_set_contents(conf, text, -1, NULL));
	if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
				      G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL |
					  G_SPAWN_DO_NOT_REAP_CHILD,
				      die_with_parent, NULL, ret_pid, NULL, &out, NULL, &error))
		return NULL;
	/* The address is printed once the bus listens. */
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

static bool fake_resolved_start(struct fake_resolved *f)
{
	*f = (struct fake_resolved){.stop_fd = -1};
	f->dir = g_dir_make_tmp("test-dns-bus-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->address = start_dbus_daemon(f->dir, &f->daemon);
	if (!f->address)
		return false;
	g_assert_cmpint(sd_bus_new(&f->server), >=, 0);
	g_assert_cmpint(sd_bus_set_address(f->server, f->address), >=, 0);
	g_assert_cmpint(sd_bus_set_bus_client(f->server, 1), >=, 0);
	g_assert_cmpint(sd_bus_start(f->server), >=, 0);
	g_assert_cmpint(sd_bus_add_object_vtable(f->server, NULL, "/org/freedesktop/resolve1",
						 "org.freedesktop.resolve1.Manager", manager_vtable,
						 NULL),
			>=, 0);
	g_assert_cmpint(sd_bus_request_name(f->server, "org.freedesktop.resolve1", 0), >=, 0);
	f->stop_fd = eventfd(0, EFD_CLOEXEC);
	g_assert_cmpint(f->stop_fd, >=, 0);
	atomic_store(&f->serve, true);
	f->thread = g_thread_new("fake-resolved", serve_thread, f);
	return true;
}

static void fake_resolved_stop(struct fake_resolved *f)
{
	const char *argv_rm[] = {"rm", "-rf", f->dir, NULL};

	if (f->thread) {
		uint64_t one = 1;

		g_assert_cmpint(write(f->stop_fd, &one, sizeof(one)), ==, sizeof(one));
		g_thread_join(f->thread);
		close(f->stop_fd);
		sd_bus_flush_close_unref(f->server);
	}
	if (f->daemon > 0) {
		kill(f->daemon, SIGTERM);
		waitpid(f->daemon, NULL, 0);
	}
	g_spawn_sync(NULL, (char **)argv_rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
		     NULL, NULL);
	g_free(f->dir);
	g_free(f->address);
}

static void test_resolved(void)
{
	const char *const link2[] = {"10.0.0.53", "2001:db8::53", NULL};
	const char *const link7[] = {"192.0.2.7", NULL};
	const char *const global[] = {"9.9.9.9", "2620:fe::fe", NULL};
	struct fake_resolved f;
	struct dns_source src = {.resolv_conf = FIX "/resolv/stub.conf"};
	enum dns_origin origin = DNS_ORIGIN_RESOLV_CONF;
	char **servers = NULL;
	g_autofree char *dbus_daemon = g_find_program_in_path("dbus-daemon");

	if (!dbus_daemon) {
		g_test_skip("dbus-daemon is not installed (apt-get install dbus)");
		return;
	}
	if (!fake_resolved_start(&f)) {
		fake_resolved_stop(&f);
		g_test_skip("could not start a private dbus-daemon");
		return;
	}
	src.bus_address = f.address;
	g_assert_cmpint(dns_servers_for_link(&src, 2, &servers, &origin), ==, 0);
	g_assert_cmpint(origin, ==, DNS_ORIGIN_RESOLVED);
	assert_strv(servers, link2);
	g_clear_pointer(&servers, g_strfreev);
	g_assert_cmpint(dns_servers_for_link(&src, 7, &servers, &origin), ==, 0);
	assert_strv(servers, link7);
	g_clear_pointer(&servers, g_strfreev);
	/* A link without its own servers gets the global ones, not resolv.conf's stub. */
	g_assert_cmpint(dns_servers_for_link(&src, 3, &servers, &origin), ==, 0);
	g_assert_cmpint(origin, ==, DNS_ORIGIN_RESOLVED);
	assert_strv(servers, global);
	g_clear_pointer(&servers, g_strfreev);

	/* resolved hangs (the name is owned but nobody answers): the short timeout expires
	 * and resolv.conf answers. */
	atomic_store(&f.serve, false);
	{
		uint64_t one = 1;

		/* Wake the thread so it stops watching the bus. */
		g_assert_cmpint(write(f.stop_fd, &one, sizeof(one)), ==, sizeof(one));
		g_thread_join(f.thread);
		f.thread = NULL;
	}
	src.timeout_usec = 100 * 1000;
	g_assert_cmpint(dns_servers_from_resolved(f.address, src.timeout_usec, 2, &servers), ==,
			-ETIMEDOUT);
	g_assert_cmpint(dns_servers_for_link(&src, 2, &servers, &origin), ==, 0);
	g_assert_cmpint(origin, ==, DNS_ORIGIN_RESOLV_CONF);
	g_assert_cmpstr(servers[0], ==, "127.0.0.53");
	g_clear_pointer(&servers, g_strfreev);
	close(f.stop_fd);
	sd_bus_flush_close_unref(f.server);

	/* resolved not running on this bus: no auto-start, an error, resolv.conf answers. */
	g_assert_cmpint(dns_servers_from_resolved(f.address, 0, 2, &servers), <, 0);
	g_assert_null(servers);
	g_assert_cmpint(dns_servers_for_link(&src, 2, &servers, &origin), ==, 0);
	g_assert_cmpint(origin, ==, DNS_ORIGIN_RESOLV_CONF);
	g_clear_pointer(&servers, g_strfreev);
	fake_resolved_stop(&f);
}

static void test_resolved_disabled(void)
{
	char **servers = NULL;

	g_assert_cmpint(dns_servers_from_resolved("", 0, 2, &servers), ==, -EHOSTUNREACH);
	g_assert_null(servers);
	g_assert_cmpint(dns_servers_from_resolved("unix:path=/nonexistent/bus", 0, 2, &servers), <,
			0);
	g_assert_null(servers);
}

/* ---- DHCP flag --------------------------------------------------------------------- */

static void assert_dhcp(const char *root, int ifindex, const char *ifname, bool want,
			enum dhcp_origin want_origin)
{
	const struct dhcp_source src = {.root = root};
	enum dhcp_origin origin = (enum dhcp_origin)77;

	if (dhcp_enabled_for_link(&src, ifindex, ifname, &origin) != want || origin != want_origin)
		g_error("%s ifindex %d %s: got origin %s, want %s %s", root, ifindex, ifname,
			dhcp_origin_to_string(origin), want ? "enabled" : "disabled",
			dhcp_origin_to_string(want_origin));
}

static void test_dhcp_networkmanager(void)
{
	const char *root = FIX "/root-nm";

	assert_dhcp(root, 2, "eth0", true, DHCP_ORIGIN_NETWORKMANAGER);
	assert_dhcp(root, 3, "eth3", false, DHCP_ORIGIN_NETWORKMANAGER);
	/* managed=false: NM does not answer, ifupdown does. */
	assert_dhcp(root, 4, "eth4", true, DHCP_ORIGIN_IFUPDOWN);
	/* A runtime (initrd) connection without [ipv4]: NM's default method is auto. */
	assert_dhcp(root, 5, "eth5", true, DHCP_ORIGIN_NETWORKMANAGER);
	/* The active connection is in no keyfile directory: the next source answers. */
	assert_dhcp(root, 6, "eth6", true, DHCP_ORIGIN_IFUPDOWN);
	assert_dhcp(root, 9, "eth9", false, DHCP_ORIGIN_NONE);
}

static void test_dhcp_networkd(void)
{
	const char *root = FIX "/root-networkd";

	assert_dhcp(root, 2, "eth2", true, DHCP_ORIGIN_NETWORKD); /* lease */
	assert_dhcp(root, 3, "eth3", true, DHCP_ORIGIN_NETWORKD); /* drop-in wins */
	/* DHCP=ipv6 and no IPv4 at all: an IPv6-only link, its IPv6 answer. */
	assert_dhcp(root, 4, "eth4", true, DHCP_ORIGIN_NETWORKD);
	/* DHCP=ipv6 with a static IPv4 Address= ([Address] section): the IPv4 answer. */
	assert_dhcp(root, 9, "eth9", false, DHCP_ORIGIN_NETWORKD);
	assert_dhcp(root, 5, "eth5", false, DHCP_ORIGIN_NONE);    /* unmanaged */
	assert_dhcp(root, 6, "eth6", true, DHCP_ORIGIN_NETWORKD); /* "DHCP = yes" */
	assert_dhcp(root, 7, "eth7", true, DHCP_ORIGIN_NETWORKD); /* DHCP4_ADDRESS */
	/* DHCP=no; a DHCP= key in another section does not count. */
	assert_dhcp(root, 8, "eth8", false, DHCP_ORIGIN_NETWORKD);
}

static void test_dhcp_ifupdown(void)
{
	const char *root = FIX "/root-ifupdown";

	assert_dhcp(root, 1, "eth1", true, DHCP_ORIGIN_IFUPDOWN);
	/* static for inet; inet6 dhcp is not the IPv4 flag. */
	assert_dhcp(root, 2, "eth10", false, DHCP_ORIGIN_IFUPDOWN);
	assert_dhcp(root, 3, "eth2", true, DHCP_ORIGIN_IFUPDOWN); /* interfaces.d */
	/* Hidden files and package-manager leftovers in interfaces.d are not read. */
	assert_dhcp(root, 4, "eth3", false, DHCP_ORIGIN_NONE);
	assert_dhcp(root, 5, "eth5", false, DHCP_ORIGIN_NONE);
	assert_dhcp(root, 6, "eth11", false, DHCP_ORIGIN_IFUPDOWN);
	/* Only `inet6 auto`: an IPv6-only link configured automatically. */
	assert_dhcp(root, 9, "eth12", true, DHCP_ORIGIN_IFUPDOWN);
	/* Names are matched whole: eth1 is not eth10 or eth11. */
	assert_dhcp(root, 7, "eth", false, DHCP_ORIGIN_NONE);
	assert_dhcp(root, 8, NULL, false, DHCP_ORIGIN_NONE);
	assert_dhcp(FIX "/nonexistent-root", 1, "eth1", false, DHCP_ORIGIN_NONE);
}

static void assert_state(const char *root, int ifindex, const char *ifname, int want_v4,
			 bool want_v6, enum dhcp_origin want_origin)
{
	const struct dhcp_source src = {.root = root};
	struct dhcp_state st = {.ipv4 = 77};

	g_assert_cmpint(dhcp_state_for_link(&src, ifindex, ifname, &st), ==, want_origin);
	g_assert_cmpint(st.ipv4, ==, want_v4);
	g_assert_cmpint(st.ipv6_auto, ==, want_v6);
}

static void test_dhcp_ipv6_states(void)
{
	/* Both families' answers behind the one-bit flag. */
	assert_state(FIX "/root-nm", 2, "eth0", DHCP_V4_DHCP, true, DHCP_ORIGIN_NETWORKMANAGER);
	assert_state(FIX "/root-nm", 3, "eth3", DHCP_V4_STATIC, true, DHCP_ORIGIN_NETWORKMANAGER);
	/* An initrd connection without [ipv4] or [ipv6]: NM's default is auto for both. */
	assert_state(FIX "/root-nm", 5, "eth5", DHCP_V4_DHCP, true, DHCP_ORIGIN_NETWORKMANAGER);
	assert_state(FIX "/root-networkd", 4, "eth4", DHCP_V4_NONE, true, DHCP_ORIGIN_NETWORKD);
	assert_state(FIX "/root-networkd", 9, "eth9", DHCP_V4_STATIC, true, DHCP_ORIGIN_NETWORKD);
	assert_state(FIX "/root-networkd", 6, "eth6", DHCP_V4_DHCP, true, DHCP_ORIGIN_NETWORKD);
	/* A lease, and a static .network: IPv4 DHCP (the lease), no IPv6. */
	assert_state(FIX "/root-networkd", 2, "eth2", DHCP_V4_DHCP, false, DHCP_ORIGIN_NETWORKD);
	assert_state(FIX "/root-ifupdown", 2, "eth10", DHCP_V4_STATIC, true, DHCP_ORIGIN_IFUPDOWN);
	assert_state(FIX "/root-ifupdown", 9, "eth12", DHCP_V4_NONE, true, DHCP_ORIGIN_IFUPDOWN);
	assert_state(FIX "/root-ifupdown", 1, "eth1", DHCP_V4_DHCP, false, DHCP_ORIGIN_IFUPDOWN);
	/* Nobody manages it: IPv4 static, no IPv6, as the reference's "Disabled". */
	assert_state(FIX "/root-ifupdown", 7, "eth", DHCP_V4_STATIC, false, DHCP_ORIGIN_NONE);
}

static void test_dhcp_ifcfg(void)
{
	const char *root = FIX "/root-ifcfg";

	/* NM with an ifcfg-rh profile, found by its UUID= (the file names eth0). */
	assert_dhcp(root, 2, "ens2", true, DHCP_ORIGIN_NETWORKMANAGER);
	/* No UUID= in the profile: found by DEVICE=; static IPv4 and DHCPv6. */
	assert_dhcp(root, 3, "eth3", false, DHCP_ORIGIN_NETWORKMANAGER);
	assert_state(root, 3, "eth3", DHCP_V4_STATIC, true, DHCP_ORIGIN_NETWORKMANAGER);
	/* NM keyfiles: IPv4 disabled, IPv6 auto -> the IPv6 answer; IPv6 manual -> not. */
	assert_dhcp(root, 4, "eth4", true, DHCP_ORIGIN_NETWORKMANAGER);
	assert_dhcp(root, 5, "eth5", false, DHCP_ORIGIN_NETWORKMANAGER);
	assert_state(root, 5, "eth5", DHCP_V4_NONE, false, DHCP_ORIGIN_NETWORKMANAGER);
	/* network-scripts without NM: ifcfg-<if>. */
	assert_dhcp(root, 7, "eth7", true, DHCP_ORIGIN_IFCFG);
	assert_dhcp(root, 8, "eth8", true, DHCP_ORIGIN_IFCFG);
	assert_state(root, 8, "eth8", DHCP_V4_NONE, true, DHCP_ORIGIN_IFCFG);
	assert_dhcp(root, 9, "eth9", false, DHCP_ORIGIN_IFCFG);
	/* A backup copy is no profile. */
	assert_dhcp(root, 10, "eth10", false, DHCP_ORIGIN_NONE);
	g_assert_cmpstr(dhcp_origin_to_string(DHCP_ORIGIN_IFCFG), ==, "network-scripts");
}

static void test_dhcp_state_parsers(void)
{
	struct dhcp_state st = {.ipv4 = 77};
	int d4 = 7, d6 = 7;
	bool has4 = false;

	g_assert_cmpint(dhcp_ifcfg_parse_state("UUID=x\nBOOTPROTO=dhcp\n", "UUID", "y", &st), ==,
			-ENOENT);
	g_assert_cmpint(st.ipv4, ==, 77);
	g_assert_cmpint(dhcp_ifcfg_parse_state(NULL, NULL, NULL, &st), ==, -ENOENT);
	/* An empty IPADDR is no address; IPADDR1 is one; BOOTP counts as DHCP. */
	g_assert_cmpint(dhcp_ifcfg_parse_state("IPADDR=\"\"\n", NULL, NULL, &st), ==, 0);
	g_assert_cmpint(st.ipv4, ==, DHCP_V4_NONE);
	g_assert_cmpint(dhcp_ifcfg_parse_state("  IPADDR1=192.0.2.1\n", NULL, NULL, &st), ==, 0);
	g_assert_cmpint(st.ipv4, ==, DHCP_V4_STATIC);
	g_assert_cmpint(
	    dhcp_ifcfg_parse_state("BOOTPROTO=bootp\nIPV6INIT=no\nDHCPV6C=yes\n", NULL, NULL, &st),
	    ==, 0);
	g_assert_cmpint(st.ipv4, ==, DHCP_V4_DHCP);
	g_assert_false(st.ipv6_auto);
	/* IPADDRESS= is not IPADDR<n>=. */
	g_assert_cmpint(dhcp_ifcfg_parse_state("IPADDRESS=192.0.2.1\n", NULL, NULL, &st), ==, 0);
	g_assert_cmpint(st.ipv4, ==, DHCP_V4_NONE);

	dhcp_network_file_parse_state("[Network]\nAddress=2001:db8::1/64\nDHCP=ipv4\n", &d4, &d6,
				      &has4);
	g_assert_cmpint(d4, ==, 1);
	g_assert_cmpint(d6, ==, 0);
	g_assert_false(has4);
	dhcp_network_file_parse_state("[Network]\nAddress = 192.0.2.1/24\nDHCP=both\n", &d4, &d6,
				      &has4);
	g_assert_cmpint(d6, ==, 1);
	g_assert_true(has4);

	g_assert_cmpint(dhcp_ifupdown_parse_state("iface eth0 inet6 dhcp\n", "eth0", &st), ==, 0);
	g_assert_cmpint(st.ipv4, ==, DHCP_V4_NONE);
	g_assert_true(st.ipv6_auto);
	/* The IPv4-only parser keeps its answer: an inet6-only interface is not mentioned. */
	g_assert_cmpint(dhcp_ifupdown_parse("iface eth0 inet6 dhcp\n", "eth0"), ==, -ENOENT);
	g_assert_cmpint(dhcp_nm_connection_parse_state("[connection]\nuuid=u\n[ipv4]\nmethod="
						       "disabled\n[ipv6]\nmethod=dhcp\n",
						       "u", &st),
			==, 0);
	g_assert_cmpint(st.ipv4, ==, DHCP_V4_NONE);
	g_assert_true(st.ipv6_auto);
	g_assert_true(dhcp_state_flag(&st));
	st.ipv4 = DHCP_V4_STATIC;
	g_assert_false(dhcp_state_flag(&st));
}

static void test_dhcp_precedence(void)
{
	const char *root = FIX "/root-mixed";

	/* NM manages it statically: networkd's lease file and ifupdown are not asked. */
	assert_dhcp(root, 2, "eth0", false, DHCP_ORIGIN_NETWORKMANAGER);
	/* networkd manages eth1 (its network file is gone: no DHCP); ifupdown not asked. */
	assert_dhcp(root, 3, "eth1", false, DHCP_ORIGIN_NETWORKD);
	g_assert_cmpstr(dhcp_origin_to_string(DHCP_ORIGIN_NONE), ==, "none");
}

/* ---- files that are not small regular files ------------------------------------------ */

/* Runs body in a subprocess with a time limit: a FIFO that blocks the reader must fail the
 * test, not hang it. */
static void run_bounded(void (*body)(void))
{
	if (g_test_subprocess()) {
		body();
		return;
	}
	g_test_trap_subprocess(NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_test_trap_assert_passed();
}

/* Creates root/rel holding text, or a FIFO when text is NULL; returns the path (g_free). */
static char *make_in(const char *root, const char *rel, const char *text)
{
	char *path = g_build_filename(root, rel, NULL);
	g_autofree char *dir = g_path_get_dirname(path);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	if (text)
		g_assert_true(g_file_set_contents(path, text, -1, NULL));
	else
		g_assert_cmpint(mkfifo(path, 0644), ==, 0);
	return path;
}

static void plant(const char *root, const char *rel, const char *text)
{
	g_free(make_in(root, rel, text));
}

static void resolv_conf_not_regular_body(void)
{
	g_autofree char *fifo = make_in(tmpdir, "resolv-fifo/resolv.conf", NULL);
	g_autofree char *big = g_build_filename(tmpdir, "resolv-big.conf", NULL);
	g_autoptr(GString) text = g_string_new("nameserver 192.0.2.1\n");
	const struct dns_source src = {.resolv_conf = fifo, .bus_address = ""};
	char **servers = (char **)"untouched";
	enum dns_origin origin = (enum dns_origin)77;

	g_assert_cmpint(dns_servers_from_resolv_conf(fifo, &servers), ==, -EINVAL);
	g_assert_cmpint(dns_servers_for_link(&src, 2, &servers, &origin), ==, -EINVAL);
	g_assert_cmpint(dns_servers_from_resolv_conf("/dev/zero", &servers), ==, -EINVAL);
	/* 64 KiB is the bound: a bigger file is not a resolv.conf */
	while (text->len <= 64 * 1024)
		g_string_append(text, "# padding padding padding padding padding padding\n");
	g_assert_true(g_file_set_contents(big, text->str, (gssize)text->len, NULL));
	g_assert_cmpint(dns_servers_from_resolv_conf(big, &servers), ==, -EFBIG);
	g_assert_cmpstr((const char *)servers, ==, "untouched");
}

static void test_resolv_conf_not_regular(void)
{
	run_bounded(resolv_conf_not_regular_body);
}

/* FIFOs at NetworkManager's device state, in its keyfile directory, at networkd's link
 * state and at /etc/network/interfaces: each reads as absent, and the answer comes from
 * what is left (an interfaces.d file). */
static void dhcp_not_regular_body(void)
{
	g_autofree char *root = g_build_filename(tmpdir, "root-fifos", NULL);

	plant(root, "run/NetworkManager/devices/2", NULL);
	plant(root, "run/NetworkManager/devices/3",
	      "[device]\nmanaged=true\nconnection-uuid=u-3\n");
	plant(root, "etc/NetworkManager/system-connections/a.nmconnection", NULL);
	plant(root, "etc/NetworkManager/system-connections/b.nmconnection",
	      "[connection]\nuuid=u-3\n[ipv4]\nmethod=manual\n");
	plant(root, "run/systemd/netif/links/2", NULL);
	plant(root, "etc/network/interfaces", NULL);
	plant(root, "etc/network/interfaces.d/eth0", "iface eth0 inet dhcp\n");
	assert_dhcp(root, 2, "eth0", true, DHCP_ORIGIN_IFUPDOWN);
	assert_dhcp(root, 3, "eth3", false, DHCP_ORIGIN_NETWORKMANAGER);
}

static void test_dhcp_not_regular(void)
{
	run_bounded(dhcp_not_regular_body);
}

/* NM manages the link but names no connection in its device file: NM 1.42 writes
 * connection-uuid= only once the device is activated, so a profile still waiting for its
 * DHCP lease (no server yet, as SET_IP_INFO's DHCP request leaves it) has none. The one
 * keyfile profile bound to the interface (interface-name=) answers then; none, or several,
 * and NM does not answer. Found by tests/integration/test-kvpd-setip-stacks. */
static void test_dhcp_nm_activating(void)
{
	g_autofree char *root = g_build_filename(tmpdir, "root-nm-activating", NULL);

	plant(root, "run/NetworkManager/devices/7", "[device]\nmanaged=true\nnm-owned=false\n");
	plant(root, "etc/NetworkManager/system-connections/hv.nmconnection",
	      "[connection]\nid=hv\nuuid=u-7\ntype=ethernet\ninterface-name=eth7\n\n"
	      "[ipv4]\nmethod=auto\n");
	assert_dhcp(root, 7, "eth7", true, DHCP_ORIGIN_NETWORKMANAGER);
	/* Static: NM answers no. */
	plant(root, "run/NetworkManager/devices/8", "[device]\nmanaged=true\n");
	plant(root, "run/NetworkManager/system-connections/s.nmconnection",
	      "[connection]\nuuid=u-8\ninterface-name=eth8\n[ipv4]\nmethod=manual\n"
	      "address1=192.0.2.8/24\n");
	plant(root, "etc/network/interfaces", "iface eth8 inet dhcp\niface eth9 inet dhcp\n");
	assert_dhcp(root, 8, "eth8", false, DHCP_ORIGIN_NETWORKMANAGER);
	/* Two profiles for eth9: which one NM will activate is not in the files. */
	plant(root, "run/NetworkManager/devices/9", "[device]\nmanaged=true\n");
	plant(root, "etc/NetworkManager/system-connections/a9.nmconnection",
	      "[connection]\nuuid=u-9a\ninterface-name=eth9\n[ipv4]\nmethod=manual\n");
	plant(root, "etc/NetworkManager/system-connections/b9.nmconnection",
	      "[connection]\nuuid=u-9b\ninterface-name=eth9\n[ipv4]\nmethod=auto\n");
	assert_dhcp(root, 9, "eth9", true, DHCP_ORIGIN_IFUPDOWN);
	/* No profile names eth10; unmanaged eth11 is not looked up by name. */
	plant(root, "run/NetworkManager/devices/10", "[device]\nmanaged=true\n");
	assert_dhcp(root, 10, "eth10", false, DHCP_ORIGIN_NONE);
	plant(root, "run/NetworkManager/devices/11", "[device]\nmanaged=false\n");
	plant(root, "etc/NetworkManager/system-connections/e11.nmconnection",
	      "[connection]\nuuid=u-11\ninterface-name=eth11\n[ipv4]\nmethod=auto\n");
	assert_dhcp(root, 11, "eth11", false, DHCP_ORIGIN_NONE);
}

/* ---- netconf_run(): hvd_run() as the SET_IP_INFO backends call it --------------------- */

static char *write_script(const char *name, const char *body, int mode)
{
	char *path = g_build_filename(tmpdir, name, NULL);

	g_assert_true(g_file_set_contents(path, body, -1, NULL));
	g_assert_cmpint(g_chmod(path, mode), ==, 0);
	return path;
}

static void test_netconf_run(void)
{
	g_autofree char *tool = write_script(
	    "tool", "#!/bin/sh\necho \"out $1\"\necho err >&2\nhead -c 5000 /dev/zero\nexit 5\n",
	    0755);
	g_autofree char *noexec = write_script("tool-noexec", "#!/bin/sh\nexit 0\n", 0644);
	g_autofree char *hang = write_script("tool-hang", "#!/bin/sh\nsleep 1000\n", 0755);
	g_autofree char *missing = g_build_filename(tmpdir, "tool-missing", NULL);
	g_autofree char *out = NULL, *out2 = NULL, *out3 = NULL, *out4 = NULL;
	const char *const relative[] = {"tool", NULL};
	uint64_t deadline = now_usec() + 10 * G_USEC_PER_SEC;

	/* stdout and stderr, the first 4 KiB kept while the tool runs to its exit status */
	g_assert_cmpint(netconf_run((const char *const[]){tool, "a b", NULL}, deadline, &out), ==,
			5);
	g_assert_cmpstr(out, ==, "out a b\nerr\n"); /* then NULs, cut at 4 KiB */
	g_assert_cmpint(netconf_run((const char *const[]){tool, NULL}, deadline, NULL), ==, 5);
	/* a shell's statuses for an exec failure, with an empty output */
	g_assert_cmpint(netconf_run((const char *const[]){missing, NULL}, deadline, &out2), ==,
			127);
	g_assert_cmpstr(out2, ==, "");
	g_assert_cmpint(netconf_run((const char *const[]){noexec, NULL}, deadline, &out3), ==, 126);
	g_assert_cmpstr(out3, ==, "");
	g_assert_cmpint(
	    netconf_run((const char *const[]){hang, NULL}, now_usec() + 200 * 1000, &out4), ==,
	    -ETIME);
	g_assert_cmpstr(out4, ==, "");
	g_assert_cmpint(netconf_run(relative, deadline, NULL), ==, -EINVAL);
}

int main(int argc, char **argv)
{
	const char *argv_rm[] = {"rm", "-rf", NULL, NULL};
	int r;

	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("test-dns-dhcp-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);
	g_test_add_func("/dns/resolv-conf/messy", test_resolv_conf_messy);
	g_test_add_func("/dns/resolv-conf/missing", test_resolv_conf_missing);
	g_test_add_func("/dns/resolv-conf/stub-reported", test_resolv_conf_stub_reported);
	g_test_add_func("/dns/resolv-conf/parser-bounds", test_resolv_conf_parser_bounds);
	g_test_add_func("/dns/resolved/fake", test_resolved);
	g_test_add_func("/dns/resolved/disabled", test_resolved_disabled);
	g_test_add_func("/dhcp/networkmanager", test_dhcp_networkmanager);
	g_test_add_func("/dhcp/networkmanager-activating", test_dhcp_nm_activating);
	g_test_add_func("/dhcp/networkd", test_dhcp_networkd);
	g_test_add_func("/dhcp/ifupdown", test_dhcp_ifupdown);
	g_test_add_func("/dhcp/precedence", test_dhcp_precedence);
	g_test_add_func("/dhcp/ipv6-states", test_dhcp_ipv6_states);
	g_test_add_func("/dhcp/ifcfg", test_dhcp_ifcfg);
	g_test_add_func("/dhcp/state-parsers", test_dhcp_state_parsers);
	g_test_add_func("/dns/resolv-conf/not-regular", test_resolv_conf_not_regular);
	g_test_add_func("/dhcp/not-regular", test_dhcp_not_regular);
	g_test_add_func("/netconf/run", test_netconf_run);
	r = g_test_run();
	argv_rm[2] = tmpdir;
	g_spawn_sync(NULL, (char **)argv_rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
		     NULL, NULL);
	g_free(tmpdir);
	return r;
}
