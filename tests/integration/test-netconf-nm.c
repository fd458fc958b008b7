/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration: the SET_IP_INFO backend for NetworkManager (daemons/kvp/netconf-
 * networkmanager.c) against the REAL NetworkManager of this machine (1.42 on Debian 12),
 * struct netconf values built by hand.
 *
 * How NetworkManager runs here (root only; every case is skipped with the reason when not
 * root, when NetworkManager, dbus-daemon or ip is missing, or when the namespaces cannot be
 * had):
 *   - This process enters private mount, network and UTS namespaces (tests/sandbox.h; "/" made
 *     private, so no mount reaches the machine) before it starts anything.
 *   - tmpfs over /run (NM's pid file, device state, its own resolv.conf, and our bus socket),
 *     /var/lib/NetworkManager and /etc/NetworkManager (so the profiles NM writes land in a
 *     private system-connections/); /etc/resolv.conf gets a private file bound over it.
 *   - sysfs mounted again, read-only: it then shows this network namespace, and NM 1.42 uses
 *     udev only when /sys is writable; without udev it takes links as initialized and
 *     manages a veth (there is no udev rule to mark it unmanaged). That is what lets NM
 *     run with no udev and no systemd.
 *   - A veth pair hvnm0 (MAC 00:15:5d:aa:bb:01) / hvnm0p (peer, up, for the carrier; NM
 *     is told to leave it alone).
 *   - A private dbus-daemon (a config of ours: one unix socket in the private /run, anyone
 *     may own and call anything, no service activation), and NetworkManager --no-daemon
 *     --debug --config=<ours> with DBUS_SYSTEM_BUS_ADDRESS pointing at it. Our
 *     NetworkManager.conf: plugins=keyfile, no-auto-default=*, auth-polkit=false (the
 *     client is root anyway), dns=default with rc-manager=unmanaged (NM writes only
 *     /run/NetworkManager/resolv.conf, which GET_IP_INFO's DNS source reads here),
 *     hostname-mode=none, [logging] level=INFO; --debug sends the log to stderr, kept in
 *     /run/hvguest-nm-test/nm.log and printed when NM does not come up.
 *   - Both run with PR_SET_PDEATHSIG=SIGKILL, so a failed assertion (abort) takes them
 *     with it; on the normal path they get SIGTERM by pid and are reaped (SIGKILL after
 *     10 s). Everything else dies with the namespaces.
 *
 * What is checked, in order (the cases share one NM and build on each other):
 *   manages()    1 for hvnm0, 0 for an unknown interface or an unreachable bus, 0 when the
 *                profile is a file under ifcfg_dir.
 *   static       2 IPv4 + 2 IPv6 addresses, two IPv4 gateways (the second a fallback
 *                route) and one IPv6 gateway, 3 DNS servers: addresses and default routes
 *                over netlink, GET_IP_INFO's answer (netinfo_collect_ip_info(): addresses,
 *                gateways, DNS, dhcp_enabled from NM's device state file), the keyfile in
 *                the private system-connections/; then restore() of "there was no profile"
 *                deletes it and the addresses go.
 *   replace      a second configuration replaces the first; the same twice is idempotent
 *                (one profile, same keyfile bytes, same live addresses).
 *   restore      after apply() (the core restores when its verification fails) and after
 *                an apply() that ran out of time: the old profile's keyfile bytes and live
 *                addresses come back; a deadline already past is -ETIME at once.
 *   dhcp         ipv4.method=auto with a static IPv6 address (activated): keyfile
 *                method=auto, dhcp_enabled true (dhcp.c's reader of NM's state files).
 *   dhcp-pending DHCP alone, no DHCP server here: apply() accepts once NM runs the new
 *                profile's IP configuration (device state IP_CONFIG); dhcp_enabled is true
 *                already (dhcp.c: the one profile bound to the device).
 *   user-profile the admin's own active profile: only its addressing changes (mtu,
 *                dns-search, route-metric stay; the fallback gateway's metric follows the
 *                route-metric); restore() gives back the same file, byte for byte.
 *   unsaved-changes  the admin's stored profile with changes in memory only
 *                (UpdateUnsaved): restore() keeps the admin's file and stores them.
 *   auto-default NM restarted so that it makes its in-memory "Wired connection 1": edited,
 *                stored, then back in memory only (the stored file deleted) and active.
 *   nm-stopped   NM gone from the bus: manages() 0, apply() fails within its deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "daemons/kvp/netconf.h"
#include "daemons/kvp/netinfo.h"
#include "shared/macro.h"
#include "shared/time-util.h"
#include "tests/integration/netstack.h"
#include "tests/sandbox.h"

#define IFNAME "hvnm0"
#define PEER "hvnm0p"
#define MAC "00:15:5D:AA:BB:01"
#define DIR "/run/hvguest-nm-test"
#define BUS_ADDRESS "unix:path=" DIR "/bus"
#define NM_RESOLV_CONF "/run/NetworkManager/resolv.conf"
#define PROFILE_DIR "/etc/NetworkManager/system-connections"
#define APPLY_TIMEOUT_USEC (30 * USEC_PER_SEC)

static const char *skip_reason;
static pid_t dbus_pid, nm_pid;
static struct netconf_env env;
static struct netconf_target target;

static const char bus_conf[] =
    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
    "<busconfig>\n"
    "  <listen>" BUS_ADDRESS "</listen>\n"
    "  <auth>EXTERNAL</auth>\n"
    "  <policy context=\"default\">\n"
    "    <allow user=\"*\"/>\n"
    "    <allow own=\"*\"/>\n"
    "    <allow send_destination=\"*\"/>\n"
    "    <allow receive_sender=\"*\"/>\n"
    "  </policy>\n"
    "</busconfig>\n";

/* The [main] section goes on; no-auto-default before it or not. */
#define NM_CONF_REST                                                                               \
	"auth-polkit=false\n"                                                                      \
	"dns=default\n"                                                                            \
	"rc-manager=unmanaged\n"                                                                   \
	"systemd-resolved=false\n"                                                                 \
	"hostname-mode=none\n"                                                                     \
	"\n"                                                                                       \
	"[keyfile]\n"                                                                              \
	"unmanaged-devices=interface-name:" PEER "\n"                                              \
	"\n"                                                                                       \
	"[device-hvguest-test]\n"                                                                  \
	"match-device=interface-name:" IFNAME "\n"                                                 \
	"managed=1\n"                                                                              \
	"\n"                                                                                       \
	"[connectivity]\n"                                                                         \
	"enabled=false\n"                                                                          \
	"\n"                                                                                       \
	"[logging]\n"                                                                              \
	"level=INFO\n"

static const char nm_conf[] = "[main]\nplugins=keyfile\nno-auto-default=*\n" NM_CONF_REST;
/* NM makes its automatic "Wired connection 1" (in memory) for hvnm0 and activates it. */
static const char nm_conf_auto_default[] = "[main]\nplugins=keyfile\n" NM_CONF_REST;

static bool skip(void)
{
	if (skip_reason)
		g_test_skip(skip_reason);
	return skip_reason != NULL;
}

/* ------------------------------------------------------------------ the sandbox */

static char *find_program(const char *name, const char *fallback)
{
	char *p = g_find_program_in_path(name);

	if (!p && access(fallback, X_OK) == 0)
		p = g_strdup(fallback);
	return p;
}

static int run_quiet(const char *const *argv)
{
	int status = 0;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
			  NULL, &status, NULL))
		return -1;
	return g_spawn_check_wait_status(status, NULL) ? 0 : -1;
}

static const char *mount_private_dirs(void)
{
	static const char *const dirs[] = {"/run", "/var/lib/NetworkManager",
					   "/etc/NetworkManager"};
	struct stat st;

	for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
		if (stat(dirs[i], &st) < 0 || !S_ISDIR(st.st_mode))
			return "a directory NetworkManager needs is missing (the package is "
			       "incomplete?)";
		if (mount("tmpfs", dirs[i], "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
			return "cannot mount a tmpfs in the private mount namespace";
	}
	if (mkdir(DIR, 0755) < 0 || mkdir(PROFILE_DIR, 0755) < 0 ||
	    mkdir("/etc/NetworkManager/conf.d", 0755) < 0)
		return "cannot populate the private tmpfs";
	/* NM is told not to touch resolv.conf; a private file over it anyway. */
	if (g_file_set_contents(DIR "/resolv.conf", "", 0, NULL) &&
	    access("/etc/resolv.conf", F_OK) == 0)
		(void)mount(DIR "/resolv.conf", "/etc/resolv.conf", NULL, MS_BIND, NULL);
	if (mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return "cannot mount a read-only sysfs for the private network namespace";
	return NULL;
}

static const char *make_links(void)
{
	g_autofree char *ip = find_program("ip", "/usr/sbin/ip");
	const char *const up_lo[] = {ip, "link", "set", "lo", "up", NULL};
	const char *const add[] = {ip,     "link", "add",  IFNAME, "address", "00:15:5d:aa:bb:01",
				   "type", "veth", "peer", "name", PEER,      NULL};
	const char *const up_peer[] = {ip, "link", "set", PEER, "up", NULL};

	if (!ip)
		return "iproute2's ip is not installed";
	if (run_quiet(up_lo) < 0 || run_quiet(add) < 0 || run_quiet(up_peer) < 0)
		return "cannot create a veth pair (no veth in this kernel?)";
	return NULL;
}

static const char *const bus_env[] = {"DBUS_SYSTEM_BUS_ADDRESS=" BUS_ADDRESS,
				      "DBUS_SESSION_BUS_ADDRESS", "NOTIFY_SOCKET", NULL};

static void dump_nm_log(void)
{
	g_autofree char *log = NULL;

	if (g_file_get_contents(DIR "/nm.log", &log, NULL, NULL))
		g_printerr("---- NetworkManager's log ----\n%s\n----\n", log);
}

static int bus_open(sd_bus **ret)
{
	sd_bus *bus = NULL;
	int r = sd_bus_new(&bus);

	if (r >= 0)
		r = sd_bus_set_address(bus, BUS_ADDRESS);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*ret = bus;
	return 0;
}

/* NM's Device.State of hvnm0, or -errno. */
static int device_state(void)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *dev;
	g_autofree char *path = NULL;
	uint32_t state = 0;
	int r = bus_open(&bus);

	if (r >= 0)
		r = sd_bus_call_method(bus, "org.freedesktop.NetworkManager",
				       "/org/freedesktop/NetworkManager",
				       "org.freedesktop.NetworkManager", "GetDeviceByIpIface", NULL,
				       &reply, "s", IFNAME);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &dev);
	if (r < 0)
		return r;
	path = g_strdup(dev);
	r = sd_bus_get_property_trivial(bus, "org.freedesktop.NetworkManager", path,
					"org.freedesktop.NetworkManager.Device", "State", NULL, 'u',
					&state);
	return r < 0 ? r : (int)state;
}

/* Starts NetworkManager with config text conf and waits until it is ready: it owns its
 * name, manages hvnm0 and has seen its carrier (state disconnected or later). */
static void start_nm(const char *conf)
{
	g_autofree char *nm = find_program("NetworkManager", "/usr/sbin/NetworkManager");
	const char *const argv[] = {nm, "--no-daemon", "--debug",
				    "--config=" DIR "/NetworkManager.conf", NULL};

	g_assert_true(g_file_set_contents(DIR "/NetworkManager.conf", conf, -1, NULL));
	nm_pid = netstack_spawn(argv, DIR "/nm.log", bus_env);
	for (uint64_t until = now_usec() + 30 * USEC_PER_SEC; now_usec() < until;
	     g_usleep(50 * 1000)) {
		if (netconf_backend_networkmanager.manages(&env, &target) == 1 &&
		    device_state() >= 30)
			return;
		if (waitpid(nm_pid, NULL, WNOHANG) == nm_pid) {
			nm_pid = 0;
			break;
		}
	}
	dump_nm_log();
	g_error("NetworkManager did not come up managing " IFNAME " within 30 s");
}

static const char *start_daemons(void)
{
	g_autofree char *dbus = find_program("dbus-daemon", "/usr/bin/dbus-daemon");
	g_autofree char *nm = find_program("NetworkManager", "/usr/sbin/NetworkManager");
	const char *const argv[] = {dbus, "--config-file=" DIR "/bus.conf", "--nofork",
				    "--nopidfile", NULL};

	if (!dbus)
		return "dbus-daemon is not installed";
	if (!nm)
		return "NetworkManager is not installed";
	g_assert_true(g_file_set_contents(DIR "/bus.conf", bus_conf, -1, NULL));
	dbus_pid = netstack_spawn(argv, DIR "/dbus.log", bus_env);
	for (uint64_t until = now_usec() + 10 * USEC_PER_SEC; now_usec() < until;
	     g_usleep(20 * 1000)) {
		sd_bus *bus = NULL;

		if (bus_open(&bus) >= 0) {
			sd_bus_flush_close_unref(bus);
			break;
		}
	}
	start_nm(nm_conf);
	return NULL;
}

/* ------------------------------------------------------------------ configurations */

static void add(struct netconf_addr *list, size_t *n, const char *text, unsigned prefix)
{
	struct netconf_addr *a = &list[(*n)++];

	a->family = strchr(text, ':') ? AF_INET6 : AF_INET;
	g_assert_cmpint(inet_pton(a->family, text, &a->in6), ==, 1);
	a->prefix = prefix;
	g_strlcpy(a->text, text, sizeof(a->text));
}

static void cfg_init(struct netconf *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->target = target;
	cfg->ipv4 = NETCONF_METHOD_DISABLED;
	cfg->ipv6 = NETCONF_METHOD_AUTO;
}

/* A: 2 + 2 addresses, a fallback IPv4 gateway, 3 DNS servers. */
static void cfg_a(struct netconf *cfg)
{
	cfg_init(cfg);
	cfg->ipv4 = cfg->ipv6 = NETCONF_METHOD_STATIC;
	cfg->addr_family = 3;
	add(cfg->addrs, &cfg->n_addrs, "192.0.2.10", 24);
	add(cfg->addrs, &cfg->n_addrs, "2001:db8:1::10", 64);
	add(cfg->addrs, &cfg->n_addrs, "192.0.2.11", 24);
	add(cfg->addrs, &cfg->n_addrs, "2001:db8:1::11", 64);
	add(cfg->gateways, &cfg->n_gateways, "192.0.2.1", 0);
	add(cfg->gateways, &cfg->n_gateways, "2001:db8:1::1", 0);
	add(cfg->gateways, &cfg->n_gateways, "192.0.2.254", 0);
	add(cfg->dns, &cfg->n_dns, "198.51.100.53", 0);
	add(cfg->dns, &cfg->n_dns, "2001:db8:53::53", 0);
	add(cfg->dns, &cfg->n_dns, "198.51.100.54", 0);
}

/* B: other addresses in other subnets. */
static void cfg_b(struct netconf *cfg)
{
	cfg_init(cfg);
	cfg->ipv4 = cfg->ipv6 = NETCONF_METHOD_STATIC;
	cfg->addr_family = 3;
	add(cfg->addrs, &cfg->n_addrs, "203.0.113.20", 24);
	add(cfg->addrs, &cfg->n_addrs, "198.51.100.20", 25);
	add(cfg->addrs, &cfg->n_addrs, "2001:db8:2::20", 64);
	add(cfg->addrs, &cfg->n_addrs, "2001:db8:3::20", 64);
	add(cfg->gateways, &cfg->n_gateways, "203.0.113.1", 0);
	add(cfg->gateways, &cfg->n_gateways, "2001:db8:2::1", 0);
	add(cfg->dns, &cfg->n_dns, "203.0.113.53", 0);
}

/* C: IPv4 only, no gateway (IPv6 auto). */
static void cfg_c(struct netconf *cfg)
{
	cfg_init(cfg);
	cfg->ipv4 = NETCONF_METHOD_STATIC;
	cfg->addr_family = 1;
	add(cfg->addrs, &cfg->n_addrs, "192.0.2.99", 24);
}

static void cfg_dhcp(struct netconf *cfg)
{
	cfg_init(cfg);
	cfg->dhcp = true;
	cfg->ipv4 = NETCONF_METHOD_AUTO;
	cfg->addr_family = 1;
}

/* DHCP for IPv4 with a static IPv6 address: the activation completes without a server. */
static void cfg_dhcp_v6(struct netconf *cfg)
{
	cfg_dhcp(cfg);
	cfg->ipv6 = NETCONF_METHOD_STATIC;
	cfg->addr_family = 3;
	add(cfg->addrs, &cfg->n_addrs, "2001:db8:4::40", 64);
	add(cfg->gateways, &cfg->n_gateways, "192.0.2.1", 0);
	add(cfg->dns, &cfg->n_dns, "192.0.2.53", 0);
}

static int apply_within(const struct netconf *cfg, uint64_t timeout, uint64_t *ret_took)
{
	uint64_t start = now_usec();
	int r;

	env.deadline_usec = start + timeout;
	r = netconf_backend_networkmanager.apply(&env, cfg);
	if (ret_took)
		*ret_took = now_usec() - start;
	return r;
}

static void apply_ok(const struct netconf *cfg, const char *what)
{
	uint64_t took;
	int r = apply_within(cfg, APPLY_TIMEOUT_USEC, &took);

	g_assert_cmpint(r, ==, 0);
	g_test_message("apply(%s) took %" G_GUINT64_FORMAT " ms", what, took / USEC_PER_MSEC);
}

/* ------------------------------------------------------------------ what is seen */

static void ip_info(struct netinfo_ip_info *ret)
{
	struct netinfo_config nc = {
	    .dns = {.resolv_conf = NM_RESOLV_CONF, .bus_address = ""},
	};
	struct netinfo *ni = NULL;

	g_assert_cmpint(netinfo_new(&nc, &ni), ==, 0);
	g_assert_cmpint(netinfo_collect_ip_info(ni, MAC, ret), ==, 0);
	netinfo_free(ni);
}

/* item (with its separator) is in a ';'-list. */
static bool in_list(const char *list, const char *item)
{
	g_auto(GStrv) items = g_strsplit(list, ";", -1);

	return g_strv_contains((const char *const *)items, item);
}

static void assert_has(const char *list, const char *const *items, bool present)
{
	for (size_t i = 0; items[i]; i++)
		if (in_list(list, items[i]) != present)
			g_error("%s %s in \"%s\"", items[i], present ? "missing" : "still", list);
}

/* The keyfiles in the private system-connections/: how many, and the only one's text. */
static size_t profiles(char **ret_text)
{
	g_autoptr(GDir) d = g_dir_open(PROFILE_DIR, 0, NULL);
	const char *name;
	size_t n = 0;

	g_assert_nonnull(d);
	if (ret_text)
		*ret_text = NULL;
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(PROFILE_DIR, name, NULL);

		n++;
		if (ret_text) {
			g_free(*ret_text);
			g_assert_true(g_file_get_contents(path, ret_text, NULL, NULL));
		}
	}
	return n;
}

static const char *const a_addrs[] = {"192.0.2.10", "192.0.2.11", "2001:db8:1::10",
				      "2001:db8:1::11", NULL};
static const char *const b_addrs[] = {"203.0.113.20", "198.51.100.20", "2001:db8:2::20",
				      "2001:db8:3::20", NULL};

static void assert_a_live(void)
{
	struct netinfo_ip_info info;
	const char *const gws[] = {"192.0.2.1", "192.0.2.254", "2001:db8:1::1", NULL};
	const char *const dns[] = {"198.51.100.53", "198.51.100.54", "2001:db8:53::53", NULL};

	ip_info(&info);
	g_test_message("GET_IP_INFO: ip %s / %s, gw %s, dns %s, dhcp %d", info.ip_addr,
		       info.sub_net, info.gate_way, info.dns_addr, info.dhcp_enabled);
	assert_has(info.ip_addr, a_addrs, true);
	assert_has(info.ip_addr, b_addrs, false);
	g_assert_nonnull(strstr(info.sub_net, "255.255.255.0"));
	g_assert_nonnull(strstr(info.sub_net, "/64"));
	assert_has(info.gate_way, gws, true);
	assert_has(info.dns_addr, dns, true);
	g_assert_false(info.dhcp_enabled);
}

static void assert_b_live(void)
{
	struct netinfo_ip_info info;
	const char *const gws[] = {"203.0.113.1", "2001:db8:2::1", NULL};
	const char *const old_gws[] = {"192.0.2.1", "192.0.2.254", "2001:db8:1::1", NULL};
	const char *const dns[] = {"203.0.113.53", NULL};
	const char *const old_dns[] = {"198.51.100.53", NULL};

	ip_info(&info);
	assert_has(info.ip_addr, b_addrs, true);
	assert_has(info.ip_addr, a_addrs, false);
	assert_has(info.gate_way, gws, true);
	assert_has(info.gate_way, old_gws, false);
	assert_has(info.dns_addr, dns, true);
	assert_has(info.dns_addr, old_dns, false);
	g_assert_false(info.dhcp_enabled);
}

/* ------------------------------------------------------------------ the cases */

static void test_manages(void)
{
	struct netconf_target other = target;
	struct netconf_env gone = env;

	if (skip())
		return;
	g_assert_cmpint(netconf_backend_networkmanager.manages(&env, &target), ==, 1);
	g_strlcpy(other.ifname, "nosuch0", sizeof(other.ifname));
	g_assert_cmpint(netconf_backend_networkmanager.manages(&env, &other), ==, 0);
	gone.bus_address = "unix:path=" DIR "/no-bus-here";
	g_assert_cmpint(netconf_backend_networkmanager.manages(&gone, &target), ==, 0);
	gone = env;
	gone.nm_run_dir = DIR "/no-NetworkManager-here";
	g_assert_cmpint(netconf_backend_networkmanager.manages(&gone, &target), ==, 0);
}

static void test_static(void)
{
	struct netconf cfg;
	struct netinfo_ip_info info;
	g_autofree char *keyfile = NULL;
	void *saved = NULL;

	if (skip())
		return;
	g_assert_cmpuint(profiles(NULL), ==, 0);
	g_assert_cmpint(netconf_backend_networkmanager.save(&env, &target, &saved), ==, 0);
	cfg_a(&cfg);
	apply_ok(&cfg, "A");
	assert_a_live();
	g_assert_cmpuint(profiles(&keyfile), ==, 1);
	g_test_message("keyfile:\n%s", keyfile);
	g_assert_nonnull(strstr(keyfile, "id=hvguest " IFNAME "\n"));
	g_assert_nonnull(strstr(keyfile, "interface-name=" IFNAME "\n"));
	g_assert_nonnull(strstr(keyfile, "method=manual"));
	g_assert_nonnull(strstr(keyfile, "192.0.2.10/24"));
	g_assert_nonnull(strstr(keyfile, "2001:db8:1::11/64"));
	/* NM's keyfile writes the gateway after the first address. */
	g_assert_nonnull(strstr(keyfile, "address1=192.0.2.10/24,192.0.2.1\n"));
	g_assert_nonnull(strstr(keyfile, "0.0.0.0/0,192.0.2.254"));
	g_assert_nonnull(strstr(keyfile, "198.51.100.53;198.51.100.54;"));

	/* The profile that did not exist goes away again, and its addresses with it. */
	g_assert_cmpint(netconf_backend_networkmanager.restore(&env, &target, saved), ==, 0);
	netconf_backend_networkmanager.free_saved(saved);
	g_assert_cmpuint(profiles(NULL), ==, 0);
	ip_info(&info);
	assert_has(info.ip_addr, a_addrs, false);
	g_assert_cmpstr(info.gate_way, ==, "");

	apply_ok(&cfg, "A again");
	assert_a_live();
}

/* The profile stored as an ifcfg file belongs to the ifcfg backend. */
static void test_ifcfg_rule(void)
{
	struct netconf_env e = env;

	if (skip())
		return;
	e.ifcfg_dir = PROFILE_DIR "/";
	g_assert_cmpint(netconf_backend_networkmanager.manages(&e, &target), ==, 0);
	e.ifcfg_dir = "/etc/NetworkManager/system";
	g_assert_cmpint(netconf_backend_networkmanager.manages(&e, &target), ==, 1);
}

static void test_replace(void)
{
	struct netconf cfg;
	g_autofree char *first = NULL, *second = NULL;

	if (skip())
		return;
	cfg_b(&cfg);
	apply_ok(&cfg, "B");
	assert_b_live();
	g_assert_cmpuint(profiles(&first), ==, 1);
	g_assert_null(strstr(first, "192.0.2.10"));
	g_assert_nonnull(strstr(first, "198.51.100.20/25"));

	apply_ok(&cfg, "B twice");
	assert_b_live();
	g_assert_cmpuint(profiles(&second), ==, 1);
	g_assert_cmpstr(first, ==, second);
}

static void restore_b(void *saved, const char *keyfile_before)
{
	g_autofree char *after = NULL;
	uint64_t start = now_usec();

	g_assert_cmpint(netconf_backend_networkmanager.restore(&env, &target, saved), ==, 0);
	g_test_message("restore() took %" G_GUINT64_FORMAT " ms",
		       (now_usec() - start) / USEC_PER_MSEC);
	netconf_backend_networkmanager.free_saved(saved);
	g_assert_cmpuint(profiles(&after), ==, 1);
	g_assert_cmpstr(after, ==, keyfile_before);
	assert_b_live();
}

static void test_restore(void)
{
	struct netconf cfg;
	struct netinfo_ip_info info;
	g_autofree char *before = NULL;
	void *saved = NULL;
	uint64_t took;
	int r;

	if (skip())
		return;
	g_assert_cmpuint(profiles(&before), ==, 1);

	/* Applied, then undone (what the core does when its verification fails). */
	g_assert_cmpint(netconf_backend_networkmanager.save(&env, &target, &saved), ==, 0);
	cfg_c(&cfg);
	apply_ok(&cfg, "C");
	ip_info(&info);
	g_assert_true(in_list(info.ip_addr, "192.0.2.99"));
	assert_has(info.ip_addr, b_addrs, false);
	restore_b(saved, before);
	ip_info(&info);
	g_assert_false(in_list(info.ip_addr, "192.0.2.99"));

	/* A deadline already past: nothing is touched. */
	g_assert_cmpint(netconf_backend_networkmanager.save(&env, &target, &saved), ==, 0);
	env.deadline_usec = now_usec() - 1;
	g_assert_cmpint(netconf_backend_networkmanager.apply(&env, &cfg), ==, -ETIME);
	restore_b(saved, before);

	/* Out of time half-way (the profile updated, the activation not finished). */
	g_assert_cmpint(netconf_backend_networkmanager.save(&env, &target, &saved), ==, 0);
	r = apply_within(&cfg, 20 * USEC_PER_MSEC, &took);
	g_test_message("apply(C) with 20 ms: %d after %" G_GUINT64_FORMAT " ms", r,
		       took / USEC_PER_MSEC);
	g_assert_true(r == -ETIME || r == 0);
	g_assert_cmpuint(took, <, 2 * USEC_PER_SEC);
	/* -ETIME only once the deadline has passed, never a poll interval early. */
	if (r == -ETIME)
		g_assert_cmpuint(took, >=, 20 * USEC_PER_MSEC);
	restore_b(saved, before);
}

static void test_dhcp(void)
{
	struct netconf cfg;
	struct netinfo_ip_info info;
	g_autofree char *keyfile = NULL, *before = NULL;
	void *saved = NULL;
	enum dhcp_origin origin;

	if (skip())
		return;
	g_assert_cmpuint(profiles(&before), ==, 1);
	g_assert_cmpint(netconf_backend_networkmanager.save(&env, &target, &saved), ==, 0);
	cfg_dhcp_v6(&cfg);
	apply_ok(&cfg, "DHCP");
	g_assert_cmpint(device_state(), >=, 70);
	g_assert_cmpuint(profiles(&keyfile), ==, 1);
	g_test_message("keyfile:\n%s", keyfile);
	g_assert_nonnull(strstr(keyfile, "method=auto"));
	g_assert_null(strstr(keyfile, "203.0.113.20"));
	/* No IPv4 address: NM takes no ipv4.gateway, the gateway is a default route. */
	g_assert_nonnull(strstr(keyfile, "route1=0.0.0.0/0,192.0.2.1,101\n"));
	g_assert_nonnull(strstr(keyfile, "dns=192.0.2.53;\n"));
	g_assert_true(dhcp_enabled_for_link(NULL, target.ifindex, IFNAME, &origin));
	g_assert_cmpint(origin, ==, DHCP_ORIGIN_NETWORKMANAGER);
	ip_info(&info);
	g_test_message("GET_IP_INFO: ip %s, gw %s, dns %s, dhcp %d", info.ip_addr, info.gate_way,
		       info.dns_addr, info.dhcp_enabled);
	g_assert_true(info.dhcp_enabled);
	assert_has(info.ip_addr, b_addrs, false);
	g_assert_true(in_list(info.ip_addr, "2001:db8:4::40"));
	g_assert_true(in_list(info.gate_way, "192.0.2.1"));
	g_assert_true(in_list(info.dns_addr, "192.0.2.53"));

	restore_b(saved, before);
	g_assert_false(dhcp_enabled_for_link(NULL, target.ifindex, IFNAME, &origin));
}

/* DHCP alone, and no DHCP server on the link: accepted once NM runs the profile's IP
 * configuration; the activation itself stays pending. */
static void test_dhcp_pending(void)
{
	struct netconf cfg;
	struct netinfo_ip_info info;
	g_autofree char *keyfile = NULL, *before = NULL, *devstate = NULL, *path = NULL;
	void *saved = NULL;
	int state;

	if (skip())
		return;
	g_assert_cmpuint(profiles(&before), ==, 1);
	g_assert_cmpint(netconf_backend_networkmanager.save(&env, &target, &saved), ==, 0);
	cfg_dhcp(&cfg);
	apply_ok(&cfg, "DHCP only");
	state = device_state();
	g_test_message("device state after apply(DHCP only): %d", state);
	g_assert_cmpint(state, >=, 70);
	g_assert_cmpint(state, <, 100);
	g_assert_cmpuint(profiles(&keyfile), ==, 1);
	g_assert_nonnull(strstr(keyfile, "method=auto"));
	g_assert_null(strstr(keyfile, "address1="));
	ip_info(&info);
	assert_has(info.ip_addr, b_addrs, false);
	path = g_strdup_printf("/run/NetworkManager/devices/%d", target.ifindex);
	g_file_get_contents(path, &devstate, NULL, NULL);
	g_test_message("GET_IP_INFO dhcp_enabled while DHCP is pending: %d; %s:\n%s",
		       info.dhcp_enabled, path, devstate);
	/* The device file names no profile until activated: dhcp.c takes the one bound to
	 * hvnm0. */
	g_assert_true(info.dhcp_enabled);

	restore_b(saved, before);
}

#define USER_UUID "6a1bd1c6-5c1e-4d0b-9a43-0123456789ab"
#define USER_KEYFILE PROFILE_DIR "/user " IFNAME ".nmconnection"

/* A profile of the machine's admin for hvnm0, with options of its own, added and activated
 * over D-Bus (NM writes its keyfile). Returns its object path. */
static void append_user_settings(sd_bus_message *m, const char *addr)
{
	g_assert_cmpint(sd_bus_message_append(
			    m, "a{sa{sv}}", 4, "connection", 4, "id", "s", "user " IFNAME, "uuid",
			    "s", USER_UUID, "type", "s", "802-3-ethernet", "interface-name", "s",
			    IFNAME, "802-3-ethernet", 1, "mtu", "u", (uint32_t)1400, "ipv4", 5,
			    "method", "s", "manual", "address-data", "aa{sv}", 1, 2, "address", "s",
			    addr, "prefix", "u", (uint32_t)24, "dns-search", "as", 1,
			    "example.test", "route-metric", "x", (int64_t)300, "never-default", "b",
			    1, "ipv6", 1, "method", "s", "ignore"),
			>=, 0);
}

static char *add_user_profile(void)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL, *dev = NULL;
	const char *path, *dev_path;
	char *conn;

	g_assert_cmpint(bus_open(&bus), >=, 0);
	g_assert_cmpint(sd_bus_message_new_method_call(bus, &m, "org.freedesktop.NetworkManager",
						       "/org/freedesktop/NetworkManager/Settings",
						       "org.freedesktop.NetworkManager.Settings",
						       "AddConnection"),
			>=, 0);
	append_user_settings(m, "10.9.9.9");
	g_assert_cmpint(sd_bus_call(bus, m, 10 * USEC_PER_SEC, NULL, &reply), >=, 0);
	g_assert_cmpint(sd_bus_message_read(reply, "o", &path), >=, 0);
	conn = g_strdup(path);
	g_assert_cmpint(sd_bus_call_method(bus, "org.freedesktop.NetworkManager",
					   "/org/freedesktop/NetworkManager",
					   "org.freedesktop.NetworkManager", "GetDeviceByIpIface",
					   NULL, &dev, "s", IFNAME),
			>=, 0);
	g_assert_cmpint(sd_bus_message_read(dev, "o", &dev_path), >=, 0);
	g_assert_cmpint(sd_bus_call_method(bus, "org.freedesktop.NetworkManager",
					   "/org/freedesktop/NetworkManager",
					   "org.freedesktop.NetworkManager", "ActivateConnection",
					   NULL, NULL, "ooo", conn, dev_path, "/"),
			>=, 0);
	return conn;
}

static void wait_for_address(const char *addr)
{
	struct netinfo_ip_info info;

	for (uint64_t until = now_usec() + 10 * USEC_PER_SEC;; g_usleep(50 * 1000)) {
		ip_info(&info);
		if (in_list(info.ip_addr, addr))
			return;
		if (now_usec() > until)
			g_error("%s did not show up: %s", addr, info.ip_addr);
	}
}

/* The active profile is the admin's own: only its addressing changes, its other options
 * stay (mtu, dns-search, route-metric, which places the fallback gateway), never-default
 * goes (it would forbid the gateway); restore() gives back the very same file. */
static void test_user_profile(void)
{
	struct netconf cfg;
	struct netinfo_ip_info info;
	g_autofree char *conn = NULL, *before = NULL, *during = NULL, *after = NULL;
	void *saved = NULL;

	if (skip())
		return;
	conn = add_user_profile();
	wait_for_address("10.9.9.9");
	g_assert_true(g_file_get_contents(USER_KEYFILE, &before, NULL, NULL));
	g_test_message("the admin's keyfile:\n%s", before);

	g_assert_cmpint(netconf_backend_networkmanager.save(&env, &target, &saved), ==, 0);
	cfg_a(&cfg);
	apply_ok(&cfg, "A over the admin's profile");
	assert_a_live();
	g_assert_true(g_file_get_contents(USER_KEYFILE, &during, NULL, NULL));
	g_test_message("after apply():\n%s", during);
	g_assert_nonnull(strstr(during, "uuid=" USER_UUID "\n"));
	g_assert_nonnull(strstr(during, "mtu=1400\n"));
	g_assert_nonnull(strstr(during, "dns-search=example.test;\n"));
	g_assert_nonnull(strstr(during, "route-metric=300\n"));
	g_assert_nonnull(strstr(during, "0.0.0.0/0,192.0.2.254,301\n"));
	g_assert_null(strstr(during, "never-default"));
	g_assert_null(strstr(during, "10.9.9.9"));
	ip_info(&info);
	g_assert_false(in_list(info.ip_addr, "10.9.9.9"));

	g_assert_cmpint(netconf_backend_networkmanager.restore(&env, &target, saved), ==, 0);
	netconf_backend_networkmanager.free_saved(saved);
	g_assert_true(g_file_get_contents(USER_KEYFILE, &after, NULL, NULL));
	g_assert_cmpstr(after, ==, before);
	ip_info(&info);
	g_assert_true(in_list(info.ip_addr, "10.9.9.9"));
	assert_has(info.ip_addr, a_addrs, false);
}

static void remove_profiles(void)
{
	g_autoptr(GDir) d = g_dir_open(PROFILE_DIR, 0, NULL);
	const char *name;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(PROFILE_DIR, name, NULL);

		g_assert_cmpint(unlink(path), ==, 0);
	}
}

/* keyfile text less its timestamp= line and its [.nmmeta] section. */
static char *without_bookkeeping(const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	GString *out = g_string_new(NULL);
	bool meta = false;

	for (size_t i = 0; lines[i]; i++) {
		if (lines[i][0] == '[')
			meta = strcmp(lines[i], "[.nmmeta]") == 0;
		if (meta || g_str_has_prefix(lines[i], "timestamp="))
			continue;
		g_string_append_printf(out, "%s%s", lines[i], lines[i + 1] ? "\n" : "");
	}
	/* The blank line that separated the dropped section. */
	if (g_str_has_suffix(out->str, "\n\n"))
		g_string_truncate(out, out->len - 1);
	return g_string_free(out, FALSE);
}

#define AUTO_NAME "Wired connection 1.nmconnection"
#define AUTO_RUN "/run/NetworkManager/system-connections/" AUTO_NAME
#define AUTO_ETC PROFILE_DIR "/" AUTO_NAME

/* NM's automatic profile (unsaved, nm-generated: only in /run) is active: apply() edits it
 * (NM then stores it in system-connections/), restore() makes it an in-memory profile again,
 * its file in system-connections/ deleted, and activates it again. */
/* The admin changed the stored profile in memory only (UpdateUnsaved, as `nmcli connection
 * modify --temporary` does): restore() must not take that for an in-memory profile and
 * delete the admin's file; it stores the settings that were in force. */
static void test_unsaved_changes(void)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *fn = NULL;
	g_autofree char *conn = NULL, *after = NULL;
	struct netinfo_ip_info info;
	struct netconf cfg;
	void *saved = NULL;
	const char *filename;

	if (skip())
		return;
	g_assert_cmpint(bus_open(&bus), >=, 0);
	{
		_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
		const char *path;

		g_assert_cmpint(sd_bus_call_method(bus, "org.freedesktop.NetworkManager",
						   "/org/freedesktop/NetworkManager/Settings",
						   "org.freedesktop.NetworkManager.Settings",
						   "GetConnectionByUuid", NULL, &reply, "s",
						   USER_UUID),
				>=, 0);
		g_assert_cmpint(sd_bus_message_read(reply, "o", &path), >=, 0);
		conn = g_strdup(path);
	}
	g_assert_cmpint(sd_bus_message_new_method_call(
			    bus, &m, "org.freedesktop.NetworkManager", conn,
			    "org.freedesktop.NetworkManager.Settings.Connection", "UpdateUnsaved"),
			>=, 0);
	append_user_settings(m, "10.9.9.10");
	g_assert_cmpint(sd_bus_call(bus, m, 10 * USEC_PER_SEC, NULL, NULL), >=, 0);
	g_assert_cmpint(sd_bus_get_property(bus, "org.freedesktop.NetworkManager", conn,
					    "org.freedesktop.NetworkManager.Settings.Connection",
					    "Filename", NULL, &fn, "s"),
			>=, 0);
	g_assert_cmpint(sd_bus_message_read(fn, "s", &filename), >=, 0);
	g_test_message("the profile with unsaved changes is at \"%s\"", filename);

	g_assert_cmpint(netconf_backend_networkmanager.save(&env, &target, &saved), ==, 0);
	cfg_a(&cfg);
	apply_ok(&cfg, "A over unsaved changes");
	assert_a_live();
	g_assert_cmpint(netconf_backend_networkmanager.restore(&env, &target, saved), ==, 0);
	netconf_backend_networkmanager.free_saved(saved);
	g_assert_true(g_file_get_contents(USER_KEYFILE, &after, NULL, NULL));
	g_test_message("the admin's file after restore():\n%s", after);
	g_assert_nonnull(strstr(after, "10.9.9.10/24"));
	ip_info(&info);
	g_assert_true(in_list(info.ip_addr, "10.9.9.10"));
	assert_has(info.ip_addr, a_addrs, false);
}

static void test_auto_default(void)
{
	g_autofree char *ip = find_program("ip", "/usr/sbin/ip");
	const char *const flush[] = {ip, "addr", "flush", "dev", IFNAME, NULL};
	const char *const down[] = {ip, "link", "set", IFNAME, "down", NULL};
	g_autofree char *before = NULL, *after = NULL, *stored = NULL;
	struct netinfo_ip_info info;
	struct netconf cfg;
	void *saved = NULL;

	if (skip())
		return;
	/* A fresh start: no profile, a link without addresses, NM making its own. */
	netstack_stop(&nm_pid);
	remove_profiles();
	g_assert_cmpint(run_quiet(flush), ==, 0);
	g_assert_cmpint(run_quiet(down), ==, 0);
	start_nm(nm_conf_auto_default);
	for (uint64_t until = now_usec() + 10 * USEC_PER_SEC; device_state() < 70;
	     g_usleep(50 * 1000))
		g_assert_cmpuint(now_usec(), <, until);
	g_assert_true(g_file_get_contents(AUTO_RUN, &before, NULL, NULL));
	g_test_message("NM's automatic profile:\n%s", before);
	g_assert_cmpuint(profiles(NULL), ==, 0);

	g_assert_cmpint(netconf_backend_networkmanager.save(&env, &target, &saved), ==, 0);
	cfg_a(&cfg);
	apply_ok(&cfg, "A over NM's automatic profile");
	assert_a_live();
	g_assert_cmpuint(profiles(&stored), ==, 1);
	g_assert_true(g_file_test(AUTO_ETC, G_FILE_TEST_EXISTS));
	g_assert_nonnull(strstr(stored, "192.0.2.10/24"));

	g_assert_cmpint(netconf_backend_networkmanager.restore(&env, &target, saved), ==, 0);
	netconf_backend_networkmanager.free_saved(saved);
	g_assert_cmpuint(profiles(NULL), ==, 0);
	g_assert_true(g_file_get_contents(AUTO_RUN, &after, NULL, NULL));
	g_test_message("after restore():\n%s", after);
	/* The same settings; what is gone is NM's own bookkeeping: the activation time and the
	 * mark of a profile NM generated (an edited profile is the admin's, says NM). */
	{
		g_autofree char *expected = without_bookkeeping(before);

		g_assert_cmpstr(after, ==, expected);
	}
	g_assert_cmpint(device_state(), >=, 70);
	ip_info(&info);
	assert_has(info.ip_addr, a_addrs, false);
}

/* NM gone from the bus: manages() says no, apply() fails in time. */
static void test_nm_stopped(void)
{
	struct netconf cfg;
	uint64_t took;

	if (skip())
		return;
	netstack_stop(&nm_pid);
	g_assert_cmpint(netconf_backend_networkmanager.manages(&env, &target), ==, 0);
	cfg_b(&cfg);
	g_assert_cmpint(apply_within(&cfg, 5 * USEC_PER_SEC, &took), <, 0);
	g_assert_cmpuint(took, <, 5 * USEC_PER_SEC + 500 * USEC_PER_MSEC);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	env.bus_address = BUS_ADDRESS;
	env.nm_run_dir = "/run/NetworkManager";
	g_strlcpy(target.ifname, IFNAME, sizeof(target.ifname));
	g_strlcpy(target.mac_text, MAC, sizeof(target.mac_text));
	skip_reason = sandbox_unavailable(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS);
	if (!skip_reason)
		skip_reason = sandbox_enter(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS);
	if (!skip_reason)
		skip_reason = mount_private_dirs();
	if (!skip_reason)
		skip_reason = make_links();
	if (!skip_reason) {
		target.ifindex = (int)if_nametoindex(IFNAME);
		g_assert_cmpint(target.ifindex, >, 0);
		skip_reason = start_daemons();
	}

	g_test_add_func("/netconf-nm/manages", test_manages);
	g_test_add_func("/netconf-nm/static", test_static);
	g_test_add_func("/netconf-nm/ifcfg-rule", test_ifcfg_rule);
	g_test_add_func("/netconf-nm/replace", test_replace);
	g_test_add_func("/netconf-nm/restore", test_restore);
	g_test_add_func("/netconf-nm/dhcp", test_dhcp);
	g_test_add_func("/netconf-nm/dhcp-pending", test_dhcp_pending);
	g_test_add_func("/netconf-nm/user-profile", test_user_profile);
	g_test_add_func("/netconf-nm/unsaved-changes", test_unsaved_changes);
	g_test_add_func("/netconf-nm/auto-default", test_auto_default);
	g_test_add_func("/netconf-nm/nm-stopped", test_nm_stopped);
	{
		int r = g_test_run();

		netstack_stop(&nm_pid);
		netstack_stop(&dbus_pid);
		return r;
	}
}
