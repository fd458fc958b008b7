/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration: SET_IP_INFO end to end on the REAL network stacks of this machine — the
 * simulated host (hv-host-sim) -> the simulated kernel -> the real hv-kvpd with
 * set-ip-backend=auto -> NetworkManager 1.42, systemd-networkd 252 or ifupdown's ifup/ifdown
 * — with the result read back over rtnetlink (ip(8)) and through GET_IP_INFO from the
 * simulated host (by MAC). Issue 13's "applied for real" on the host's own path.
 *
 * Each stack runs in a subprocess of its own (g_test_trap_subprocess()), which forks the
 * PID 1 of a new PID namespace (so no daemon outlives it, whatever happens), which enters
 * private mount and network namespaces ("/" made private, tests/sandbox.h) before it
 * starts anything, as the backend tests do (test-netconf-nm.c, -networkd.c, -ifupdown.c;
 * the start code is repeated here in short):
 *   - a new /proc for that PID namespace; tmpfs over /run (bus socket, NM's and networkd's
 *     state), and per stack over /etc/NetworkManager + /var/lib/NetworkManager,
 *     /etc/systemd/network, or ifupdown's hook directories /etc/network/if-*.d; a
 *     read-only sysfs mounted again for NM and
 *     networkd (how both run without udev); for ifupdown a fake dhclient through an
 *     overlay on /usr/sbin (there is no DHCP client installed).
 *   - a veth pair hvs0 (the adapter, MAC 00:15:5D:AA:BB:01) / hvs0p (peer, up);
 *   - a private dbus-daemon on /run/dbus/system_bus_socket, then NetworkManager
 *     --no-daemon or systemd-networkd, each with PR_SET_PDEATHSIG=SIGKILL and stopped by
 *     pid (SIGTERM, then SIGKILL) on the normal path;
 *   - hv-kvpd (tests/integration/daemon.h: killed by pid on every path) with
 *     set-ip-backend=auto, sysfs-net-dir= a fake tree where hvs0's device/device_id is the
 *     adapter's GUID, bus-address= the private bus, every stack path pointing at the
 *     private files, and no set-ifconfig-script (else the script backend wins `auto`).
 *
 * For each stack, in order:
 *   static    2 IPv4 + 2 IPv6 addresses, a gateway per family, 2 DNS servers: S_OK; `auto`
 *             chose the stack (the daemon's "applying through <backend>"); the addresses and
 *             both default routes over netlink; GET_IP_INFO has the addresses, gateways and
 *             dhcp_enabled 0, and the DNS servers where dns.c can see them (NM: its
 *             /run/NetworkManager/resolv.conf is the daemon's resolv-conf=; networkd keeps
 *             them in its link state, visible only through systemd-resolved, which is not
 *             installed; ifupdown's dns-nameservers needs resolvconf, not installed). The
 *             same request again: S_OK, the same files and live state.
 *   failing   NM and networkd: set-ip-timeout=100ms (reloaded with SIGHUP), so the stack
 *             cannot be done in time; ifupdown: a gateway the kernel refuses (the subnet's
 *             broadcast address; an off-link one is taken, ifupdown adds it "onlink"), so
 *             ifup fails. HV_E_FAIL, and the static configuration's addresses and routes
 *             are back (the core's "previous configuration restored"), and the stack's
 *             files byte for byte (NM's keyfiles less timestamp=).
 *   refused   NM and networkd: a gateway the kernel refuses (the subnet's broadcast
 *             address) with set-ip-timeout=3s: HV_E_FAIL (NM: the default route never shows,
 *             netlink verification fails at the deadline; networkd: the link fails), rolled
 *             back the same way.
 *   dhcp      dhcp_enabled=1 with no DHCP server on the link: S_OK; the stack's own file says
 *             DHCP (NM's keyfile ipv4 method=auto, networkd's DHCP=ipv4, ifupdown's
 *             "inet dhcp", ifup having run the fake dhclient), the static IPv4 addresses
 *             are gone, and GET_IP_INFO's dhcp_enabled is 1 (dhcp.c reads the same files;
 *             for NM, whose device state file names no profile until the device is
 *             activated, which a lone DHCPv4 never is here, through the one profile bound
 *             to hvs0 — this test found that dhcp.c answered 0 there). NM also: DHCP with a
 *             static IPv6 address, which activates; the device file names the profile.
 *   static    again, from DHCP (ifupdown: ifdown releases the fake lease first).
 *
 * Root only; skipped with the reason when not root, when a stack, dbus-daemon or ip is not
 * installed, or when the namespaces cannot be had.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <net/if.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "tests/integration/netstack.h"
#include "tests/sandbox.h"
#include "tools/hv-host-sim/hvsim.h"

#define SEC (1000 * 1000ull)
#define IFNAME "hvs0"
#define PEER "hvs0p"
#define MAC "00:15:5D:AA:BB:01"
#define GUID "{f8615163-df3e-46c5-913f-f2d2f965ed0e}"
#define BUS_SOCKET "/run/dbus/system_bus_socket"
#define BUS_ADDRESS "unix:path=" BUS_SOCKET
#define NM_CONF_DIR "/run/hvguest-e2e"
#define NM_PROFILE_DIR "/etc/NetworkManager/system-connections"
#define NETWORKD_DIR "/etc/systemd/network"
#define NETWORKD_RUN_DIR "/run/systemd/netif"
/* The directory the parent makes for a stack's subprocess. */
#define DIR_ENV "HVGUEST_TEST_SETIP_STACKS_DIR"
#define NETWORKD_OUR_FILE NETWORKD_DIR "/05-hvguest-" IFNAME ".network"

/* The static request: 2 + 2 addresses, a gateway per family, 2 DNS servers. */
#define A_ADDRS "192.0.2.10;192.0.2.11;2001:db8:1::10;2001:db8:1::11"
#define A_SUBNETS "255.255.255.0;24;64;64"
#define A_GWS "192.0.2.1;2001:db8:1::1"
#define A_DNS "192.0.2.53;2001:db8::53"
#define A_LIVE "192.0.2.10/24;192.0.2.11/24;2001:db8:1::10/64;2001:db8:1::11/64"
/* What the failing request asks for (never seen live once it is rolled back). */
#define B_ADDRS "198.51.100.20;2001:db8:5::20"
#define B_SUBNETS "24;64"

enum stack { STACK_NM, STACK_NETWORKD, STACK_IFUPDOWN };

static const char *const backend_names[] = {"networkmanager", "networkd", "ifupdown"};

struct ctx {
	enum stack stack;
	struct test_env *env;
	struct hvsim *sim;
	struct test_daemon *kvpd;
	pid_t dbus_pid, stack_pid;
	char *root;   /* network-root= for ifupdown (its files are under it), else "/" */
	char *resolv; /* resolv-conf= */
	char *ifup, *ifdown, *ip;
	int ifindex;
};

/* ------------------------------------------------------------------ helpers */

static char *find_tool(const char *name)
{
	static const char *const dirs[] = {"/usr/sbin",        "/sbin",       "/usr/bin", "/bin",
					   "/usr/lib/systemd", "/lib/systemd"};

	for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
		char *p = g_build_filename(dirs[i], name, NULL);

		if (access(p, X_OK) == 0)
			return p;
		g_free(p);
	}
	return NULL;
}

static char *run_ip(struct ctx *c, const char *args)
{
	g_autofree char *cmd = g_strdup_printf("%s %s", c->ip, args);
	g_autofree char *err = NULL;
	char *out = NULL;
	int status;

	g_assert_true(g_spawn_command_line_sync(cmd, &out, &err, &status, NULL));
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("%s failed: %s", cmd, err);
	return out;
}

static void write_file(const char *path, const char *text)
{
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static char *read_file(const char *path)
{
	char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) ? text : NULL;
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "addr/prefix" of hvs0's global addresses, sorted, ';'-joined (rtnetlink via ip(8)). */
static char *live_addresses(struct ctx *c)
{
	g_autofree char *out = run_ip(c, "-o addr show dev " IFNAME " scope global");
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; lines[i]; i++) {
		g_auto(GStrv) w = g_strsplit_set(lines[i], " \t", -1);

		for (guint j = 0; w[j] && w[j + 1]; j++)
			if (strcmp(w[j], "inet") == 0 || strcmp(w[j], "inet6") == 0) {
				g_ptr_array_add(found, g_strdup(w[j + 1]));
				break;
			}
	}
	g_ptr_array_sort(found, compare_strings);
	g_ptr_array_add(found, NULL);
	return g_strjoinv(";", (char **)found->pdata);
}

static char *live_default_routes(struct ctx *c)
{
	g_autofree char *v4 = run_ip(c, "-4 route show default dev " IFNAME);
	g_autofree char *v6 = run_ip(c, "-6 route show default dev " IFNAME);

	return g_strdup_printf("%s%s", v4, v6);
}

/* Addresses settle (IPv6 DAD, a stack finishing): look again for up to 10 s. */
static void wait_live(struct ctx *c, const char *want)
{
	g_autofree char *have = NULL;

	for (int i = 0; i < 200; i++) {
		g_free(have);
		have = live_addresses(c);
		if (strcmp(have, want) == 0)
			return;
		g_usleep(50 * 1000);
	}
	g_assert_cmpstr(have, ==, want);
}

static bool in_list(const char *list, const char *item)
{
	g_auto(GStrv) items = g_strsplit(list, ";", -1);

	return g_strv_contains((const char *const *)items, item);
}

static const char *const bus_env[] = {"DBUS_SYSTEM_BUS_ADDRESS=" BUS_ADDRESS,
				      "DBUS_SESSION_BUS_ADDRESS", "NOTIFY_SOCKET", NULL};

static pid_t spawn_logged(struct ctx *c, const char *const *argv, const char *log_name)
{
	g_autofree char *log_path = g_build_filename(c->env->dir, log_name, NULL);

	return netstack_spawn(argv, log_path, bus_env);
}

static void dump_log(struct ctx *c, const char *name)
{
	g_autofree char *path = g_build_filename(c->env->dir, name, NULL);
	g_autofree char *text = read_file(path);

	if (text)
		g_printerr("---- %s ----\n%s\n----\n", name, text);
}

static void wait_log(struct ctx *c, const char *text, unsigned count)
{
	for (int i = 0; i < 300 && test_daemon_log_count(c->kvpd, text) < count; i++)
		g_usleep(100 * 1000);
	g_assert_cmpuint(test_daemon_log_count(c->kvpd, text), >=, count);
}

/* ------------------------------------------------------------------ the stacks */

static const char bus_conf[] =
    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
    "<busconfig>\n"
    "  <type>system</type>\n"
    "  <listen>" BUS_ADDRESS "</listen>\n"
    "  <auth>EXTERNAL</auth>\n"
    "  <policy context=\"default\">\n"
    "    <allow user=\"*\"/>\n"
    "    <allow own=\"*\"/>\n"
    "    <allow send_destination=\"*\"/>\n"
    "    <allow receive_sender=\"*\"/>\n"
    "  </policy>\n"
    "</busconfig>\n";

static void start_dbus(struct ctx *c)
{
	g_autofree char *dbus = find_tool("dbus-daemon");
	g_autofree char *conf = g_build_filename(c->env->dir, "bus.conf", NULL);
	g_autofree char *conf_arg = g_strconcat("--config-file=", conf, NULL);
	const char *const argv[] = {dbus, conf_arg, "--nofork", "--nopidfile", NULL};

	write_file(conf, bus_conf);
	g_assert_cmpint(g_mkdir_with_parents("/run/dbus", 0755), ==, 0);
	c->dbus_pid = spawn_logged(c, argv, "dbus.log");
	for (int i = 0; i < 500 && access(BUS_SOCKET, F_OK) < 0; i++)
		g_usleep(20 * 1000);
	g_assert_cmpint(access(BUS_SOCKET, F_OK), ==, 0);
}

static const char nm_conf[] = "[main]\n"
			      "plugins=keyfile\n"
			      "no-auto-default=*\n"
			      "auth-polkit=false\n"
			      "dns=default\n"
			      "rc-manager=unmanaged\n"
			      "systemd-resolved=false\n"
			      "hostname-mode=none\n"
			      "\n"
			      "[keyfile]\n"
			      "unmanaged-devices=interface-name:" PEER "\n"
			      "\n"
			      "[device-hvguest-test]\n"
			      "match-device=interface-name:" IFNAME "\n"
			      "managed=1\n"
			      "\n"
			      "[connectivity]\n"
			      "enabled=false\n"
			      "\n"
			      "[logging]\n"
			      "level=INFO\n";

/* NM's device state file says it manages hvs0 (it writes it once the device is realized). */
static bool nm_ready(struct ctx *c)
{
	g_autofree char *path = g_strdup_printf("/run/NetworkManager/devices/%d", c->ifindex);
	g_autofree char *text = read_file(path);

	return text && strstr(text, "managed=true");
}

static void start_nm(struct ctx *c)
{
	static const char *const dirs[] = {"/var/lib/NetworkManager", "/etc/NetworkManager"};
	g_autofree char *nm = find_tool("NetworkManager");
	const char *const argv[] = {nm, "--no-daemon", "--debug",
				    "--config=" NM_CONF_DIR "/NetworkManager.conf", NULL};

	for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++)
		g_assert_cmpint(mount("tmpfs", dirs[i], "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"),
				==, 0);
	g_assert_cmpint(g_mkdir_with_parents(NM_PROFILE_DIR, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents("/etc/NetworkManager/conf.d", 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(NM_CONF_DIR, 0755), ==, 0);
	g_assert_cmpint(
	    mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), ==,
	    0);
	write_file(NM_CONF_DIR "/NetworkManager.conf", nm_conf);
	start_dbus(c);
	c->stack_pid = spawn_logged(c, argv, "stack.log");
	for (int i = 0; i < 600 && !nm_ready(c); i++) {
		if (waitpid(c->stack_pid, NULL, WNOHANG) == c->stack_pid) {
			c->stack_pid = 0;
			break;
		}
		g_usleep(50 * 1000);
	}
	if (!nm_ready(c)) {
		dump_log(c, "stack.log");
		g_error("NetworkManager did not come up managing " IFNAME " within 30 s");
	}
}

static char *networkd_admin_state(struct ctx *c)
{
	g_autofree char *path = g_strdup_printf(NETWORKD_RUN_DIR "/links/%d", c->ifindex);
	g_autofree char *text = read_file(path);
	const char *p = text ? strstr(text, "ADMIN_STATE=") : NULL;

	return p ? g_strndup(p + 12, strcspn(p + 12, "\n")) : NULL;
}

/* The admin's own file for hvs0 before the host says anything: networkd then manages the
 * link (so `auto` picks networkd), and ours (05-) sorts before it and wins. */
static const char networkd_admin_file[] = "[Match]\nName=" IFNAME "\n\n"
					  "[Network]\nAddress=203.0.113.5/24\n"
					  "LinkLocalAddressing=no\nIPv6AcceptRA=no\n";

static void start_networkd(struct ctx *c)
{
	struct passwd *pw = getpwnam("systemd-network");
	g_autofree char *networkd = find_tool("systemd-networkd");
	g_autofree char *state = NULL;
	const char *const argv[] = {networkd, NULL};

	g_assert_nonnull(pw);
	g_assert_cmpint(mount("tmpfs", NETWORKD_DIR, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"),
			==, 0);
	g_assert_cmpint(
	    mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), ==,
	    0);
	g_assert_cmpint(g_mkdir_with_parents(NETWORKD_RUN_DIR, 0755), ==, 0);
	g_assert_cmpint(chown(NETWORKD_RUN_DIR, pw->pw_uid, pw->pw_gid), ==, 0);
	write_file(NETWORKD_DIR "/50-admin-" IFNAME ".network", networkd_admin_file);
	start_dbus(c);
	setenv("SYSTEMD_LOG_LEVEL", "debug", 1);
	c->stack_pid = spawn_logged(c, argv, "stack.log");
	unsetenv("SYSTEMD_LOG_LEVEL");
	for (int i = 0; i < 400; i++) {
		g_free(state);
		state = networkd_admin_state(c);
		if (state && strcmp(state, "configured") == 0)
			break;
		g_usleep(50 * 1000);
	}
	if (!state || strcmp(state, "configured") != 0) {
		dump_log(c, "stack.log");
		g_error("systemd-networkd did not configure " IFNAME " within 20 s: %s",
			state ? state : "(no state)");
	}
}

static char *ifupdown_path(struct ctx *c, const char *rel)
{
	return g_build_filename(c->root, rel, NULL);
}

/* ifupdown's files under c->root (network-root=, so dhcp.c reads the same ones); the
 * admin's stanza for hvs0, brought up with ifup; a fake dhclient (see the opening comment). */
static void start_ifupdown(struct ctx *c)
{
	static const char *const hooks[] = {"if-pre-up.d", "if-up.d", "if-down.d",
					    "if-post-down.d"};
	g_autofree char *ifdir = ifupdown_path(c, "etc/network/interfaces.d");
	g_autofree char *statedir = ifupdown_path(c, "run/network");
	g_autofree char *interfaces = ifupdown_path(c, "etc/network/interfaces");
	g_autofree char *upper = g_build_filename(c->env->dir, "sbin-upper", NULL);
	g_autofree char *work = g_build_filename(c->env->dir, "sbin-work", NULL);
	g_autofree char *opts = NULL, *fake = NULL;
	g_autofree char *state_arg = g_strconcat("--state-dir=", statedir, NULL);
	const char *const ifup[] = {c->ifup, "-i", interfaces, state_arg, IFNAME, NULL};

	for (size_t i = 0; i < G_N_ELEMENTS(hooks); i++) {
		g_autofree char *d = g_build_filename("/etc/network", hooks[i], NULL);

		if (g_file_test(d, G_FILE_TEST_IS_DIR))
			g_assert_cmpint(
			    mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"), ==, 0);
	}
	g_assert_cmpint(g_mkdir_with_parents(ifdir, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(statedir, 0755), ==, 0);
	write_file(interfaces, "source-directory interfaces.d\n\n"
			       "iface " IFNAME " inet static\n"
			       "\taddress 203.0.113.5/24\n");
	g_assert_false(g_file_test("/usr/sbin/dhclient", G_FILE_TEST_EXISTS) ||
		       g_file_test("/sbin/dhclient", G_FILE_TEST_EXISTS));
	g_assert_cmpint(g_mkdir_with_parents(upper, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(work, 0755), ==, 0);
	opts = g_strdup_printf("lowerdir=/usr/sbin,upperdir=%s,workdir=%s", upper, work);
	g_assert_cmpint(mount("overlay", "/usr/sbin", "overlay", 0, opts), ==, 0);
	/* It "leases" nothing: the link has no DHCP server; it releases by flushing. */
	fake =
	    g_strdup_printf("#!/bin/sh\n"
			    "echo \"dhclient $*\" >>'%s/dhclient.log'\n"
			    "for a; do i=$a; done\n"
			    "case \" $* \" in\n"
			    "*\" -r \"*|*\" -x \"*) exec %s addr flush dev \"$i\" scope global;;\n"
			    "esac\n"
			    "exit 0\n",
			    c->env->dir, c->ip);
	write_file("/usr/sbin/dhclient", fake);
	g_assert_cmpint(chmod("/usr/sbin/dhclient", 0755), ==, 0);
	g_assert_cmpint(test_run_quiet(ifup), ==, 0);
	wait_live(c, "203.0.113.5/24");
}

/* ------------------------------------------------------------------ hv-kvpd */

static void write_kvpd_config(struct ctx *c, const char *timeout)
{
	g_autofree char *sysfs = g_build_filename(c->env->dir, "sys", "class", "net", NULL);
	g_autofree char *ifcfg = g_build_filename(c->env->dir, "no-ifcfg", NULL);
	g_autofree char *interfaces = ifupdown_path(c, "etc/network/interfaces");
	g_autofree char *ifdir = ifupdown_path(c, "etc/network/interfaces.d");
	g_autofree char *statedir = ifupdown_path(c, "run/network");
	g_autofree char *config = g_strdup_printf(
	    "set-ip-backend=auto\nsysfs-net-dir=%s\nbus-address=" BUS_ADDRESS "\n"
	    "use-resolved=false\nresolv-conf=%s\nnetwork-root=%s\n"
	    "networkd-dir=" NETWORKD_DIR "\nnetworkd-run-dir=" NETWORKD_RUN_DIR "\n"
	    "nm-run-dir=/run/NetworkManager\nifupdown-interfaces=%s\nifupdown-dir=%s\n"
	    "ifupdown-state-dir=%s\nifup-path=%s\nifdown-path=%s\nifcfg-dir=%s\n"
	    "address-refresh=1h\nset-ip-timeout=%s\n",
	    sysfs, c->resolv, c->root, interfaces, ifdir, statedir, c->ifup, c->ifdown, ifcfg,
	    timeout);

	test_env_write_config(c->env, config);
}

static void start_kvpd(struct ctx *c)
{
	g_autofree char *dev =
	    g_build_filename(c->env->dir, "sys", "class", "net", IFNAME, "device", NULL);
	g_autofree char *id = g_build_filename(dev, "device_id", NULL);
	g_autofree char *lo = g_build_filename(c->env->dir, "sys", "class", "net", "lo", NULL);

	g_assert_cmpint(g_mkdir_with_parents(dev, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(lo, 0755), ==, 0);
	write_file(id, GUID "\n");
	write_kvpd_config(c, "20s");
	g_assert_cmpint(hvsim_new(NULL, &c->sim), ==, 0);
	g_assert_cmpint(hvsim_listen(c->sim, VMU_SERVICE_KVP, c->env->socket_path), ==, 0);
	hvsim_set_host_timeout(c->sim, 40 * SEC);
	c->kvpd = test_daemon_start(c->env, "daemons/kvp/hv-kvpd", NULL);
	g_assert_cmpint(hvsim_wait_registered(c->sim, VMU_SERVICE_KVP, 10 * SEC), ==, 0);
}

static uint32_t set_ip(struct ctx *c, uint8_t dhcp, const char *addrs, const char *subnets,
		       const char *gws, const char *dns, uint64_t *ret_usec)
{
	const struct hvsim_ip_config cfg = {GUID, 3, dhcp, addrs, subnets, gws, dns};
	struct hvsim_result r;

	g_assert_cmpint(hvsim_kvp_set_ip_info(c->sim, &cfg, &r), ==, 0);
	g_assert_false(r.kernel_timeout);
	if (ret_usec)
		*ret_usec = r.latency_usec;
	return r.status;
}

static void get_ip_info(struct ctx *c, struct hvsim_result *r)
{
	g_assert_cmpint(hvsim_kvp_get_ip_info(c->sim, MAC, 3, r), ==, 0);
	g_assert_cmphex(r->status, ==, VMU_S_OK);
	g_test_message("GET_IP_INFO: ip %s, subnets %s, gw %s, dns %s, dhcp %u", r->ip_addr,
		       r->sub_net, r->gate_way, r->dns_addr, r->dhcp_enabled);
}

/* The stack's configuration files, names and contents, for a byte-for-byte comparison
 * (NetworkManager's keyfiles less their timestamp= line: NM's bookkeeping of activations). */
static void append_dir(GString *out, const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, compare_strings);
	for (guint i = 0; i < names->len; i++) {
		g_autofree char *path = g_build_filename(dir, names->pdata[i], NULL);
		g_autofree char *text = read_file(path);
		g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

		g_string_append_printf(out, "== %s\n", path);
		for (guint j = 0; lines[j]; j++)
			if (!g_str_has_prefix(lines[j], "timestamp="))
				g_string_append_printf(out, "%s\n", lines[j]);
	}
}

static char *stack_files(struct ctx *c)
{
	GString *out = g_string_new(NULL);

	switch (c->stack) {
	case STACK_NM:
		append_dir(out, NM_PROFILE_DIR);
		break;
	case STACK_NETWORKD:
		append_dir(out, NETWORKD_DIR);
		break;
	case STACK_IFUPDOWN: {
		g_autofree char *ifdir = ifupdown_path(c, "etc/network/interfaces.d");
		g_autofree char *main_file = ifupdown_path(c, "etc/network/interfaces");
		g_autofree char *text = read_file(main_file);

		g_string_append_printf(out, "== %s\n%s", main_file, text ? text : "(none)\n");
		append_dir(out, ifdir);
		break;
	}
	}
	return g_string_free(out, FALSE);
}

/* ------------------------------------------------------------------ the checks */

static void assert_static_in_force(struct ctx *c)
{
	g_autofree char *routes = live_default_routes(c);
	struct hvsim_result r;

	wait_live(c, A_LIVE);
	g_free(routes);
	routes = live_default_routes(c);
	g_test_message("default routes:\n%s", routes);
	g_assert_nonnull(strstr(routes, "default via 192.0.2.1 "));
	g_assert_nonnull(strstr(routes, "default via 2001:db8:1::1 "));
	get_ip_info(c, &r);
	g_assert_true(in_list(r.ip_addr, "192.0.2.10"));
	g_assert_true(in_list(r.ip_addr, "192.0.2.11"));
	g_assert_true(in_list(r.ip_addr, "2001:db8:1::10"));
	g_assert_true(in_list(r.ip_addr, "2001:db8:1::11"));
	g_assert_false(in_list(r.ip_addr, "203.0.113.5"));
	g_assert_true(in_list(r.gate_way, "192.0.2.1"));
	g_assert_true(in_list(r.gate_way, "2001:db8:1::1"));
	g_assert_cmpuint(r.dhcp_enabled, ==, 0);
	if (c->stack == STACK_NM) {
		g_assert_true(in_list(r.dns_addr, "192.0.2.53"));
		g_assert_true(in_list(r.dns_addr, "2001:db8::53"));
	}
}

static void check_static(struct ctx *c)
{
	g_autofree char *want = g_strdup_printf("applying through %s", backend_names[c->stack]);
	uint64_t usec = 0;

	g_assert_cmphex(set_ip(c, 0, A_ADDRS, A_SUBNETS, A_GWS, A_DNS, &usec), ==, VMU_S_OK);
	g_test_message("%s: static SET_IP_INFO answered S_OK after %" G_GUINT64_FORMAT " ms",
		       backend_names[c->stack], usec / 1000);
	g_assert_cmpuint(test_daemon_log_count(c->kvpd, want), ==, 1);
	g_assert_cmpuint(test_daemon_log_count(c->kvpd, "applying through"), ==, 1);
	assert_static_in_force(c);
	/* The same request again: S_OK, the same files, the same live state. */
	{
		g_autofree char *files = stack_files(c), *files2 = NULL;

		g_assert_cmphex(set_ip(c, 0, A_ADDRS, A_SUBNETS, A_GWS, A_DNS, &usec), ==,
				VMU_S_OK);
		g_test_message("%s: the same request again answered S_OK after %" G_GUINT64_FORMAT
			       " ms",
			       backend_names[c->stack], usec / 1000);
		files2 = stack_files(c);
		g_assert_cmpstr(files2, ==, files);
		assert_static_in_force(c);
	}
	if (c->stack == STACK_NETWORKD) {
		g_autofree char *file = read_file(NETWORKD_OUR_FILE);

		g_assert_nonnull(file);
		g_assert_nonnull(strstr(file, "DNS=192.0.2.53"));
	}
}

static void check_failing(struct ctx *c)
{
	g_autofree char *before = stack_files(c), *after = NULL;
	uint64_t usec = 0;
	unsigned restored = test_daemon_log_count(c->kvpd, "previous configuration restored");

	if (c->stack == STACK_IFUPDOWN) {
		/* ifupdown adds the default route "onlink", so an off-link gateway is taken; the
		 * subnet's broadcast address is refused by the kernel all the same: ifup fails. */
		g_assert_cmphex(set_ip(c, 0, B_ADDRS, B_SUBNETS, "198.51.100.255", "", &usec), ==,
				VMU_E_FAIL);
	} else {
		write_kvpd_config(c, "100ms");
		test_daemon_reload(c->kvpd, "eloaded");
		g_assert_cmphex(set_ip(c, 0, B_ADDRS, B_SUBNETS, "198.51.100.1;2001:db8:5::1",
				       "198.51.100.53", &usec),
				==, VMU_E_FAIL);
		g_assert_cmpuint(usec, <, 2 * SEC);
	}
	g_test_message("%s: failing SET_IP_INFO answered after %" G_GUINT64_FORMAT " ms",
		       backend_names[c->stack], usec / 1000);
	wait_log(c, "previous configuration restored", restored + 1);
	g_assert_cmpuint(test_daemon_log_count(c->kvpd, "could not all be put back"), ==, 0);
	g_assert_cmpuint(test_daemon_log_count(c->kvpd, "could not restore"), ==, 0);
	after = stack_files(c);
	g_assert_cmpstr(after, ==, before);
	if (c->stack != STACK_IFUPDOWN) {
		write_kvpd_config(c, "20s");
		test_daemon_reload(c->kvpd, "eloaded");
	}
	assert_static_in_force(c);
}

/* A gateway the kernel refuses (the subnet's broadcast address), on a stack that takes
 * the request and applies what it can: the core's netlink verification misses the
 * default route, and the request fails and is rolled back by set-ip-timeout=. */
static void check_refused_gateway(struct ctx *c)
{
	g_autofree char *before = stack_files(c), *after = NULL;
	unsigned restored = test_daemon_log_count(c->kvpd, "previous configuration restored");
	unsigned failed = test_daemon_log_count(c->kvpd, "could not apply the configuration");
	uint64_t usec = 0;

	write_kvpd_config(c, "3s");
	test_daemon_reload(c->kvpd, "eloaded");
	g_assert_cmphex(set_ip(c, 0, B_ADDRS, B_SUBNETS, "198.51.100.255", "", &usec), ==,
			VMU_E_FAIL);
	g_test_message("%s: refused gateway answered after %" G_GUINT64_FORMAT " ms",
		       backend_names[c->stack], usec / 1000);
	wait_log(c, "previous configuration restored", restored + 1);
	if (c->stack == STACK_NM)
		g_assert_cmpuint(
		    test_daemon_log_count(c->kvpd, "no default route via 198.51.100.255"), ==, 1);
	else
		g_assert_cmpuint(
		    test_daemon_log_count(c->kvpd, "could not apply the configuration"), ==,
		    failed + 1);
	after = stack_files(c);
	g_assert_cmpstr(after, ==, before);
	write_kvpd_config(c, "20s");
	test_daemon_reload(c->kvpd, "eloaded");
	assert_static_in_force(c);
}

static void check_dhcp(struct ctx *c)
{
	g_autofree char *text = NULL;
	struct hvsim_result r;
	uint64_t usec = 0;

	g_assert_cmphex(set_ip(c, 1, "", "", "", "192.0.2.53", &usec), ==, VMU_S_OK);
	g_test_message("%s: DHCP SET_IP_INFO answered S_OK after %" G_GUINT64_FORMAT " ms",
		       backend_names[c->stack], usec / 1000);
	switch (c->stack) {
	case STACK_NM: {
		g_autoptr(GDir) d = g_dir_open(NM_PROFILE_DIR, 0, NULL);
		const char *name;
		unsigned n = 0;

		g_assert_nonnull(d);
		while ((name = g_dir_read_name(d))) {
			g_autofree char *path = g_build_filename(NM_PROFILE_DIR, name, NULL);

			g_free(text);
			text = read_file(path);
			n++;
		}
		g_assert_cmpuint(n, ==, 1);
		g_test_message("keyfile:\n%s", text);
		g_assert_nonnull(strstr(text, "[ipv4]\n"));
		g_assert_nonnull(strstr(strstr(text, "[ipv4]\n"), "method=auto\n"));
		break;
	}
	case STACK_NETWORKD:
		text = read_file(NETWORKD_OUR_FILE);
		g_assert_nonnull(text);
		g_assert_nonnull(strstr(text, "DHCP=ipv4\n"));
		break;
	case STACK_IFUPDOWN: {
		g_autofree char *ours =
		    ifupdown_path(c, "etc/network/interfaces.d/hvguest-" IFNAME);
		g_autofree char *log_path = g_build_filename(c->env->dir, "dhclient.log", NULL);
		g_autofree char *log = read_file(log_path);

		text = read_file(ours);
		g_assert_nonnull(text);
		g_assert_nonnull(strstr(text, "iface " IFNAME " inet dhcp\n"));
		/* ifup ran the (fake) DHCP client on hvs0 */
		g_assert_nonnull(log);
		g_assert_nonnull(strstr(log, "dhclient -4 "));
		break;
	}
	}
	/* The static IPv4 addresses are gone (nothing leases new ones here). */
	{
		g_autofree char *live = live_addresses(c);

		g_test_message("addresses after DHCP: %s", live);
		g_assert_null(strstr(live, "192.0.2.10/"));
		g_assert_null(strstr(live, "192.0.2.11/"));
	}
	/* NetworkManager: the device is not activated (no lease, no router), and its state
	 * file names no profile yet; dhcp.c then takes the one profile bound to hvs0. */
	get_ip_info(c, &r);
	g_assert_cmpuint(r.dhcp_enabled, ==, 1);
	if (c->stack != STACK_NM)
		return;
	/* DHCP with a static IPv6 address activates (IPv6 done, DHCPv4 may fail and goes on):
	 * the device state file names the profile then. */
	g_assert_cmphex(set_ip(c, 1, "2001:db8:1::10", "64", "", "192.0.2.53", &usec), ==,
			VMU_S_OK);
	g_test_message("%s: DHCP + IPv6 SET_IP_INFO answered S_OK after %" G_GUINT64_FORMAT " ms",
		       backend_names[c->stack], usec / 1000);
	wait_live(c, "2001:db8:1::10/64");
	{
		g_autofree char *path =
		    g_strdup_printf("/run/NetworkManager/devices/%d", c->ifindex);
		g_autofree char *dev = NULL;

		for (int i = 0; i < 200; i++) {
			g_free(dev);
			dev = read_file(path);
			if (dev && strstr(dev, "connection-uuid="))
				break;
			g_usleep(50 * 1000);
		}
		g_assert_nonnull(dev);
		g_assert_nonnull(strstr(dev, "connection-uuid="));
	}
	get_ip_info(c, &r);
	g_assert_true(in_list(r.ip_addr, "2001:db8:1::10"));
	g_assert_cmpuint(r.dhcp_enabled, ==, 1);
}

/* ------------------------------------------------------------------ one stack */

static void run_stack(enum stack stack)
{
	struct ctx c = {.stack = stack};
	const char *why;

	why = sandbox_enter(CLONE_NEWNS | CLONE_NEWNET);
	if (why)
		g_error("%s", why);
	/* This PID namespace's /proc: dbus-daemon and networkd look callers' pids up there. */
	g_assert_cmpint(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), ==,
			0);
	g_assert_cmpint(mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"), ==, 0);
	c.ip = find_tool("ip");
	c.ifup = find_tool("ifup");
	c.ifdown = find_tool("ifdown");
	g_assert_nonnull(c.ip);
	g_free(run_ip(&c, "link set lo up"));
	g_free(run_ip(&c, "link add " IFNAME " address " MAC " type veth peer name " PEER));
	g_free(run_ip(&c, "link set " PEER " up"));
	c.ifindex = (int)if_nametoindex(IFNAME);
	g_assert_cmpint(c.ifindex, >, 0);
	c.env = test_env_new_in(g_getenv(DIR_ENV), VMU_SERVICE_KVP, NULL);
	c.root =
	    stack == STACK_IFUPDOWN ? g_build_filename(c.env->dir, "root", NULL) : g_strdup("/");
	c.resolv = g_strdup(stack == STACK_NM ? "/run/NetworkManager/resolv.conf"
					      : "/run/hvguest-e2e-resolv.conf");
	if (stack != STACK_NM)
		write_file(c.resolv, "nameserver 198.51.100.99\n");
	if (!c.ifup || !c.ifdown) /* kvpd's config wants a path; nothing runs it then */
		c.ifup = g_strdup("/nonexistent"), c.ifdown = g_strdup("/nonexistent");

	switch (stack) {
	case STACK_NM:
		start_nm(&c);
		break;
	case STACK_NETWORKD:
		start_networkd(&c);
		break;
	case STACK_IFUPDOWN:
		start_ifupdown(&c);
		break;
	}
	start_kvpd(&c);

	check_static(&c);
	check_failing(&c);
	if (stack != STACK_IFUPDOWN)
		check_refused_gateway(&c);
	check_dhcp(&c);
	/* From DHCP back to static (ifupdown: ifdown releases the lease first). */
	g_assert_cmphex(set_ip(&c, 0, A_ADDRS, A_SUBNETS, A_GWS, A_DNS, NULL), ==, VMU_S_OK);
	assert_static_in_force(&c);

	g_assert_cmpint(test_daemon_stop(c.kvpd, SIGTERM, 30000), ==, 0);
	test_daemon_free(c.kvpd);
	hvsim_free(c.sim);
	netstack_stop(&c.stack_pid);
	netstack_stop(&c.dbus_pid);
	test_env_free(c.env);
	g_free(c.root);
	g_free(c.resolv);
	g_free(c.ip);
	g_free(c.ifup);
	g_free(c.ifdown);
}

/* run_stack() as PID 1 of a PID namespace of its own: when it ends, or dies on a failed
 * assertion, the kernel kills every process of that namespace, networkd included (it drops
 * to its own user, which clears PR_SET_PDEATHSIG). It gets SIGKILL if we die first; a pipe
 * tells it whether we died before that took effect (getppid() is 0 across namespaces). */
static void run_in_pid_namespace(enum stack stack)
{
	int alive[2], status = 0;
	pid_t pid;

	g_assert_cmpint(unshare(CLONE_NEWPID), ==, 0);
	g_assert_cmpint(pipe2(alive, O_CLOEXEC), ==, 0);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		struct pollfd p = {.fd = alive[0], .events = POLLIN};

		close(alive[1]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || poll(&p, 1, 0) != 0)
			_exit(1);
		run_stack(stack);
		_exit(0);
	}
	close(alive[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	close(alive[1]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		g_error("the %s run failed (wait status 0x%x)", backend_names[stack], status);
	/* Not exit(): in an ASan build LeakSanitizer's exit check clones a tracer, which fails
	 * in a PID namespace whose init has ended, and aborts. */
	_exit(0);
}

/* Why this stack cannot run here, or NULL. */
static const char *unavailable(enum stack stack)
{
	g_autofree char *ip = find_tool("ip"), *dbus = find_tool("dbus-daemon");
	g_autofree char *nm = find_tool("NetworkManager");
	g_autofree char *networkd = find_tool("systemd-networkd");
	g_autofree char *ifup = find_tool("ifup"), *ifdown = find_tool("ifdown");

	if (geteuid() != 0)
		return "needs root to run the network stacks in namespaces of its own";
	if (!ip)
		return "iproute2's ip is not installed";
	switch (stack) {
	case STACK_NM:
		if (!nm || !dbus)
			return "NetworkManager or dbus-daemon is not installed";
		break;
	case STACK_NETWORKD:
		if (!networkd || !dbus)
			return "systemd-networkd or dbus-daemon is not installed";
		if (!getpwnam("systemd-network"))
			return "no systemd-network user";
		break;
	case STACK_IFUPDOWN:
		if (!ifup || !ifdown)
			return "ifupdown is not installed";
		if (g_file_test("/usr/sbin/dhclient", G_FILE_TEST_EXISTS) ||
		    g_file_test("/sbin/dhclient", G_FILE_TEST_EXISTS))
			return "a real dhclient is installed (the test fakes one)";
		break;
	}
	return sandbox_unavailable(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID);
}

/* The logs a failed subprocess left in dir: hv-kvpd's, the stack's, dbus-daemon's. */
static void print_logs(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *text = NULL;

		if (g_str_has_suffix(name, ".log") && (text = read_file(path)))
			g_printerr("---- %s ----\n%s\n----\n", name, text);
	}
}

/* The subprocess works in a directory of ours, removed here whatever became of it (its
 * namespaces, and the mounts in them, are gone with it). */
static void test_stack(gconstpointer data)
{
	enum stack stack = GPOINTER_TO_INT(data);
	g_autofree char *dir = NULL;
	const char *why;

	if (g_test_subprocess()) {
		run_in_pid_namespace(stack);
		return;
	}
	why = unavailable(stack);
	if (why) {
		g_test_skip(why);
		return;
	}
	dir = g_dir_make_tmp("hvguest-it-XXXXXX", NULL);
	g_assert_nonnull(dir);
	g_setenv(DIR_ENV, dir, TRUE);
	g_test_trap_subprocess(NULL, 60 * SEC,
			       G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_unsetenv(DIR_ENV);
	if (!g_test_trap_has_passed())
		print_logs(dir);
	{
		const char *const rm[] = {"/bin/rm", "-rf", dir, NULL};

		g_assert_cmpint(test_run_quiet(rm), ==, 0);
	}
	g_test_trap_assert_passed();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_data_func("/kvpd/setip-stacks/networkmanager", GINT_TO_POINTER(STACK_NM),
			     test_stack);
	g_test_add_data_func("/kvpd/setip-stacks/networkd", GINT_TO_POINTER(STACK_NETWORKD),
			     test_stack);
	g_test_add_data_func("/kvpd/setip-stacks/ifupdown", GINT_TO_POINTER(STACK_IFUPDOWN),
			     test_stack);
	return g_test_run();
}
