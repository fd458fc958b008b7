/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SET_IP_INFO backend for systemd-networkd (daemons/kvp/netconf-networkd.c), against the
 * REAL systemd-networkd of this machine (252 on Debian 12).
 *
 * Without networkd (any user): the files apply() writes, byte for byte (golden), for static
 * dual-stack, DHCP and IPv6-only requests; save()/restore() putting back a missing or an
 * existing file; manages() saying no when the state file or the bus says so. apply() there
 * talks to a bus address where nobody listens, so it fails after writing the file.
 *
 * With networkd (root, systemd-networkd and dbus-daemon installed; else those cases skip
 * with the reason). How networkd is run, so that nothing of the machine is seen or touched:
 *   1. main() unshares a mount, a network and a PID namespace (/ made private) and forks:
 *      the child is PID 1 of the new PID namespace and runs every test. When it ends, or
 *      dies on a failed assertion, the kernel kills every process of that namespace, so no
 *      networkd or dbus-daemon can outlive the test; the child also gets SIGKILL if the
 *      parent dies (PR_SET_PDEATHSIG), and stops both daemons by pid on a normal end.
 *   2. The child mounts a new /proc (so that networkd and dbus-daemon see this PID
 *      namespace's pids when they check a caller's credentials), a tmpfs on /run and on
 *      /etc/systemd/network (networkd reads its .network files there; the backend is told
 *      the same directory), and a new sysfs, read-only, on /sys: read-only sysfs is how
 *      networkd 252 knows it runs without udev (else it waits for udev forever), and a
 *      new sysfs shows this network namespace's links only.
 *   3. It creates /run/systemd/netif owned by systemd-network (what RuntimeDirectory= of
 *      the unit would do), then starts `dbus-daemon --nofork --config-file=<ours>` with a
 *      system-type bus listening on /run/dbus/system_bus_socket, whose policy lets anyone
 *      own org.freedesktop.network1 and call it, and then
 *      /usr/lib/systemd/systemd-networkd as root: networkd drops to the systemd-network user
 *      itself and connects to that socket. Reload/ReconfigureLink are allowed to us because
 *      we are root with CAP_NET_ADMIN (networkd's check before polkit).
 *   4. The link is a veth pair hv0 (MAC 00:15:5D:AA:BB:01) / hv0p in the namespace; no file
 *      of /usr/lib/systemd/network matches either name, so only our files manage hv0.
 * Checked there: a rollback to "no file of ours" (networkd unmanages the link again and
 * drops our addresses); static IPv4+IPv6 (two addresses each), two gateways and two DNS servers
 * applied (netlink through netinfo_collect_ip_info(), the GET_IP_INFO code; DNS through
 * networkd's link state, as no systemd-resolved is installed here); a second request
 * replacing the first; the same request twice; a request networkd cannot finish in time
 * (off-link gateway) and a request while networkd is stopped, each rolled back by restore();
 * DHCP (networkd's DHCPv4 client sends DISCOVERs from hv0, seen on hv0p); an earlier file
 * that wins; a file that matches no link; manages().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
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

#define IFNAME "hv0"
#define PEER "hv0p"
#define MAC "00:15:5D:AA:BB:01"
#define GUID "{f8615163-df3e-46c5-913f-f2d2f965ed0e}"
#define NETWORKD_DIR "/etc/systemd/network"
#define RUN_DIR "/run/systemd/netif"
#define BUS_SOCKET "/run/dbus/system_bus_socket"
#define BUS_ADDRESS "unix:path=" BUS_SOCKET
#define OUR_FILE NETWORKD_DIR "/05-hvguest-" IFNAME ".network"

static const char *live_skip;
static char *tmpdir;
static pid_t dbus_pid = -1, networkd_pid = -1;
static int hv0_index, hv0p_index;

/* ---------------------------------------------------------------- building requests */

static void add_addr(struct netconf_addr *arr, size_t *n, const char *text, unsigned prefix)
{
	struct netconf_addr *a = &arr[(*n)++];

	a->family = strchr(text, ':') ? AF_INET6 : AF_INET;
	g_assert_cmpint(inet_pton(a->family, text, &a->in6), ==, 1);
	a->prefix = prefix;
	g_assert_nonnull(inet_ntop(a->family, &a->in6, a->text, sizeof(a->text)));
}

static void init_cfg(struct netconf *cfg, int ifindex)
{
	memset(cfg, 0, sizeof(*cfg));
	g_strlcpy(cfg->target.ifname, IFNAME, sizeof(cfg->target.ifname));
	cfg->target.ifindex = ifindex;
	sscanf(MAC, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &cfg->target.mac[0], &cfg->target.mac[1],
	       &cfg->target.mac[2], &cfg->target.mac[3], &cfg->target.mac[4], &cfg->target.mac[5]);
	g_strlcpy(cfg->target.mac_text, MAC, sizeof(cfg->target.mac_text));
	g_strlcpy(cfg->target.guid, GUID, sizeof(cfg->target.guid));
}

/* A: two addresses per family, a gateway and a DNS server per family. */
static void cfg_a(struct netconf *cfg, int ifindex)
{
	init_cfg(cfg, ifindex);
	cfg->ipv4 = cfg->ipv6 = NETCONF_METHOD_STATIC;
	cfg->addr_family = 3;
	add_addr(cfg->addrs, &cfg->n_addrs, "192.0.2.10", 24);
	add_addr(cfg->addrs, &cfg->n_addrs, "192.0.2.11", 24);
	add_addr(cfg->addrs, &cfg->n_addrs, "2001:db8:1::10", 64);
	add_addr(cfg->addrs, &cfg->n_addrs, "2001:db8:1::11", 64);
	add_addr(cfg->gateways, &cfg->n_gateways, "192.0.2.1", 0);
	add_addr(cfg->gateways, &cfg->n_gateways, "2001:db8:1::1", 0);
	add_addr(cfg->dns, &cfg->n_dns, "192.0.2.53", 0);
	add_addr(cfg->dns, &cfg->n_dns, "2001:db8:1::53", 0);
}

static const char golden_a[] =
    "# Written by hv-kvpd: the Hyper-V host's network settings for hv0 (adapter " GUID ").\n"
    "# The host's next SET_IP_INFO request replaces this file.\n"
    "[Match]\nName=hv0\nMACAddress=" MAC "\n\n[Network]\nDHCP=no\n"
    "LinkLocalAddressing=ipv6\nIPv6AcceptRA=no\n"
    "Address=192.0.2.10/24\nAddress=192.0.2.11/24\n"
    "Address=2001:db8:1::10/64\nAddress=2001:db8:1::11/64\n"
    "Gateway=192.0.2.1\nGateway=2001:db8:1::1\n"
    "DNS=192.0.2.53\nDNS=2001:db8:1::53\n";

/* B: other addresses, one per family. */
static void cfg_b(struct netconf *cfg, int ifindex)
{
	init_cfg(cfg, ifindex);
	cfg->ipv4 = cfg->ipv6 = NETCONF_METHOD_STATIC;
	cfg->addr_family = 3;
	add_addr(cfg->addrs, &cfg->n_addrs, "198.51.100.20", 25);
	add_addr(cfg->addrs, &cfg->n_addrs, "2001:db8:2::20", 64);
	add_addr(cfg->gateways, &cfg->n_gateways, "198.51.100.1", 0);
	add_addr(cfg->dns, &cfg->n_dns, "198.51.100.53", 0);
}

/* DHCP for IPv4, router advertisements for IPv6. */
static void cfg_dhcp(struct netconf *cfg, int ifindex)
{
	init_cfg(cfg, ifindex);
	cfg->dhcp = true;
	cfg->ipv4 = cfg->ipv6 = NETCONF_METHOD_AUTO;
	cfg->addr_family = 1;
}

static const char golden_dhcp[] =
    "# Written by hv-kvpd: the Hyper-V host's network settings for hv0 (adapter " GUID ").\n"
    "# The host's next SET_IP_INFO request replaces this file.\n"
    "[Match]\nName=hv0\nMACAddress=" MAC "\n\n[Network]\nDHCP=ipv4\n"
    "LinkLocalAddressing=ipv6\nIPv6AcceptRA=yes\n";

/* IPv6 only: no IPv4 at all. */
static void cfg_v6only(struct netconf *cfg, int ifindex)
{
	init_cfg(cfg, ifindex);
	cfg->ipv4 = NETCONF_METHOD_DISABLED;
	cfg->ipv6 = NETCONF_METHOD_STATIC;
	cfg->addr_family = 2;
	add_addr(cfg->addrs, &cfg->n_addrs, "2001:db8:3::30", 48);
	add_addr(cfg->gateways, &cfg->n_gateways, "2001:db8:3::1", 0);
	add_addr(cfg->dns, &cfg->n_dns, "2001:db8:3::53", 0);
}

static const char golden_v6only[] =
    "# Written by hv-kvpd: the Hyper-V host's network settings for hv0 (adapter " GUID ").\n"
    "# The host's next SET_IP_INFO request replaces this file.\n"
    "[Match]\nName=hv0\nMACAddress=" MAC "\n\n[Network]\nDHCP=no\n"
    "LinkLocalAddressing=ipv6\nIPv6AcceptRA=no\n"
    "Address=2001:db8:3::30/48\nGateway=2001:db8:3::1\nDNS=2001:db8:3::53\n";

/* The host's usual request: static IPv4 with DNS, no IPv6 (so router advertisements). */
static void cfg_v4_ra(struct netconf *cfg, int ifindex)
{
	init_cfg(cfg, ifindex);
	cfg->ipv4 = NETCONF_METHOD_STATIC;
	cfg->ipv6 = NETCONF_METHOD_AUTO;
	cfg->addr_family = 1;
	add_addr(cfg->addrs, &cfg->n_addrs, "192.0.2.40", 24);
	add_addr(cfg->gateways, &cfg->n_gateways, "192.0.2.1", 0);
	add_addr(cfg->dns, &cfg->n_dns, "192.0.2.53", 0);
}

static const char golden_v4_ra[] =
    "# Written by hv-kvpd: the Hyper-V host's network settings for hv0 (adapter " GUID ").\n"
    "# The host's next SET_IP_INFO request replaces this file.\n"
    "[Match]\nName=hv0\nMACAddress=" MAC "\n\n[Network]\nDHCP=no\n"
    "LinkLocalAddressing=ipv6\nIPv6AcceptRA=yes\n"
    "Address=192.0.2.40/24\nGateway=192.0.2.1\nDNS=192.0.2.53\n"
    "\n[IPv6AcceptRA]\nUseDNS=no\n\n[DHCPv6]\nUseDNS=no\n";

/* DHCP with the host's DNS servers, which replace the lease's. */
static void cfg_dhcp_dns(struct netconf *cfg, int ifindex)
{
	cfg_dhcp(cfg, ifindex);
	cfg->ipv6 = NETCONF_METHOD_STATIC;
	add_addr(cfg->addrs, &cfg->n_addrs, "2001:db8:4::40", 64);
	add_addr(cfg->dns, &cfg->n_dns, "198.51.100.53", 0);
}

static const char golden_dhcp_dns[] =
    "# Written by hv-kvpd: the Hyper-V host's network settings for hv0 (adapter " GUID ").\n"
    "# The host's next SET_IP_INFO request replaces this file.\n"
    "[Match]\nName=hv0\nMACAddress=" MAC "\n\n[Network]\nDHCP=ipv4\n"
    "LinkLocalAddressing=ipv6\nIPv6AcceptRA=no\n"
    "Address=2001:db8:4::40/64\nDNS=198.51.100.53\n"
    "\n[DHCPv4]\nUseDNS=no\n";

static char *read_text(const char *path)
{
	char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) ? text : NULL;
}

static void assert_file(const char *path, const char *expected)
{
	g_autofree char *text = read_text(path);

	g_assert_nonnull(text);
	g_assert_cmpstr(text, ==, expected);
}

/* ---------------------------------------------------------------- without networkd */

/* Paths in tmpdir/<name>, and a bus address where nobody listens. */
static struct netconf_env offline_env(const char *name, char **ret_dir)
{
	g_autofree char *dir = g_build_filename(tmpdir, name, NULL);
	char *netdir = g_build_filename(dir, "network", NULL);
	char *rundir = g_build_filename(dir, "netif", NULL);
	char *links = g_build_filename(rundir, "links", NULL);

	g_assert_cmpint(g_mkdir_with_parents(netdir, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(links, 0755), ==, 0);
	g_free(links);
	*ret_dir = g_steal_pointer(&dir);
	return (struct netconf_env){
	    .networkd_dir = netdir,
	    .networkd_run_dir = rundir,
	    .bus_address = "unix:path=/nonexistent/hvguest-test-no-bus",
	    .deadline_usec = now_usec() + 5 * USEC_PER_SEC,
	};
}

static void free_env(struct netconf_env *env)
{
	g_free((char *)env->networkd_dir);
	g_free((char *)env->networkd_run_dir);
}

static void check_golden(void (*make)(struct netconf *, int), const char *golden)
{
	g_autofree char *dir = NULL, *path = NULL;
	struct netconf_env env = offline_env("golden", &dir);
	struct netconf cfg;

	make(&cfg, 7);
	path = g_build_filename(env.networkd_dir, "05-hvguest-hv0.network", NULL);
	/* The file is written, then networkd cannot be reached. */
	g_assert_cmpint(netconf_backend_networkd.apply(&env, &cfg), <, 0);
	assert_file(path, golden);
	g_assert_cmpint(g_unlink(path), ==, 0);
	free_env(&env);
}

static void test_golden_static(void)
{
	check_golden(cfg_a, golden_a);
}

static void test_golden_dhcp(void)
{
	check_golden(cfg_dhcp, golden_dhcp);
}

static void test_golden_v6only(void)
{
	check_golden(cfg_v6only, golden_v6only);
}

static void test_golden_v4_ra(void)
{
	check_golden(cfg_v4_ra, golden_v4_ra);
}

static void test_golden_dhcp_dns(void)
{
	check_golden(cfg_dhcp_dns, golden_dhcp_dns);
}

static void test_offline_save_restore(void)
{
	g_autofree char *dir = NULL, *path = NULL;
	struct netconf_env env = offline_env("saverestore", &dir);
	const char old[] = "[Match]\nName=hv0\n[Network]\nAddress=203.0.113.9/24\n";
	struct netconf cfg;
	void *saved = NULL;
	struct stat st;

	cfg_a(&cfg, 7);
	path = g_build_filename(env.networkd_dir, "05-hvguest-hv0.network", NULL);

	/* No file before: restore() removes ours again, even when networkd is unreachable. */
	g_assert_cmpint(netconf_backend_networkd.save(&env, &cfg.target, &saved), ==, 0);
	g_assert_cmpint(netconf_backend_networkd.apply(&env, &cfg), <, 0);
	g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_cmpint(netconf_backend_networkd.restore(&env, &cfg.target, saved), <, 0);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	netconf_backend_networkd.free_saved(saved);

	/* A file before: its bytes and mode come back. */
	g_assert_true(g_file_set_contents(path, old, -1, NULL));
	g_assert_cmpint(chmod(path, 0600), ==, 0);
	g_assert_cmpint(netconf_backend_networkd.save(&env, &cfg.target, &saved), ==, 0);
	g_assert_cmpint(netconf_backend_networkd.apply(&env, &cfg), <, 0);
	assert_file(path, golden_a);
	g_assert_cmpint(netconf_backend_networkd.restore(&env, &cfg.target, saved), <, 0);
	assert_file(path, old);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 0777, ==, 0600);
	netconf_backend_networkd.free_saved(saved);
	/* NULL is a no-op. */
	netconf_backend_networkd.free_saved(NULL);
	free_env(&env);
}

static void write_link_state(const struct netconf_env *env, int ifindex, const char *text)
{
	g_autofree char *name = g_strdup_printf("links/%d", ifindex);
	g_autofree char *path = g_build_filename(env->networkd_run_dir, name, NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void test_offline_manages(void)
{
	g_autofree char *dir = NULL;
	struct netconf_env env = offline_env("manages", &dir);
	struct netconf cfg;

	cfg_a(&cfg, 7);
	/* No state file: networkd never saw the link. */
	g_assert_cmpint(netconf_backend_networkd.manages(&env, &cfg.target), ==, 0);
	write_link_state(&env, 7, "ADMIN_STATE=unmanaged\nOPER_STATE=carrier\n");
	g_assert_cmpint(netconf_backend_networkd.manages(&env, &cfg.target), ==, 0);
	/* Managed by a networkd that no longer runs (its state directory stays). */
	write_link_state(&env, 7, "ADMIN_STATE=configured\nNETWORK_FILE=/x.network\n");
	g_assert_cmpint(netconf_backend_networkd.manages(&env, &cfg.target), ==, 0);
	free_env(&env);
}

/* ---------------------------------------------------------------- the live sandbox */

static bool live_skipped(void)
{
	if (live_skip)
		g_test_skip(live_skip);
	return live_skip != NULL;
}

static struct netconf_env live_env(uint64_t timeout_usec)
{
	return (struct netconf_env){
	    .networkd_dir = NETWORKD_DIR,
	    .networkd_run_dir = RUN_DIR,
	    .bus_address = BUS_ADDRESS,
	    .deadline_usec = now_usec() + timeout_usec,
	};
}

static void run_ip_batch(const char *commands)
{
	g_autofree char *path = g_build_filename(tmpdir, "ip.batch", NULL);
	g_autofree char *ip = g_find_program_in_path("ip");
	g_autoptr(GError) error = NULL;
	g_autofree char *err = NULL;
	int status = 0;

	if (!ip)
		ip = g_strdup("/usr/sbin/ip");
	g_assert_true(g_file_set_contents(path, commands, -1, &error));
	{
		const char *argv[] = {ip, "-batch", path, NULL};

		g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
					   NULL, &err, &status, &error));
	}
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("ip -batch failed: %s\n%s", err, commands);
}

static int bus_name_has_owner(const char *name)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int has = 0, r;

	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, BUS_ADDRESS);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r >= 0)
		r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
				       "org.freedesktop.DBus", "NameHasOwner", NULL, &reply, "s",
				       name);
	if (r >= 0)
		r = sd_bus_message_read(reply, "b", &has);
	return r < 0 ? r : has;
}

/* networkd's debug log, kept in tmpdir when a test fails. */
static const char *const debug_env[] = {"SYSTEMD_LOG_LEVEL=debug", NULL};

static pid_t spawn_logged(const char *const *argv, const char *log_name)
{
	g_autofree char *log_path = g_build_filename(tmpdir, log_name, NULL);

	return netstack_spawn(argv, log_path, debug_env);
}

static void stop_daemons(void)
{
	netstack_stop(&networkd_pid);
	netstack_stop(&dbus_pid);
}

static const char *networkd_binary(void)
{
	static const char *const paths[] = {"/usr/lib/systemd/systemd-networkd",
					    "/lib/systemd/systemd-networkd"};

	for (size_t i = 0; i < G_N_ELEMENTS(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

static void start_networkd(void)
{
	const char *argv[] = {networkd_binary(), NULL};
	uint64_t deadline = now_usec() + 20 * USEC_PER_SEC;

	g_assert_cmpint(networkd_pid, <, 0);
	networkd_pid = spawn_logged(argv, "networkd.log");
	while (bus_name_has_owner("org.freedesktop.network1") != 1) {
		g_assert_cmpuint(now_usec(), <, deadline);
		g_assert_cmpint(waitpid(networkd_pid, NULL, WNOHANG), ==, 0);
		g_usleep(20 * 1000);
	}
}

static const char bus_conf[] =
    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
    "<busconfig>\n"
    "  <type>system</type>\n"
    "  <listen>unix:path=" BUS_SOCKET "</listen>\n"
    "  <auth>EXTERNAL</auth>\n"
    "  <policy context=\"default\">\n"
    "    <allow user=\"*\"/>\n"
    "    <allow own=\"org.freedesktop.network1\"/>\n"
    "    <allow send_destination=\"*\"/>\n"
    "    <allow receive_sender=\"*\"/>\n"
    "  </policy>\n"
    "</busconfig>\n";

static void start_dbus(void)
{
	g_autofree char *conf = g_build_filename(tmpdir, "bus.conf", NULL);
	g_autofree char *daemon = g_find_program_in_path("dbus-daemon");
	g_autofree char *conf_arg = g_strconcat("--config-file=", conf, NULL);
	const char *argv[] = {daemon, conf_arg, "--nofork", "--nopidfile", NULL};
	uint64_t deadline = now_usec() + 10 * USEC_PER_SEC;

	g_assert_true(g_file_set_contents(conf, bus_conf, -1, NULL));
	g_assert_cmpint(g_mkdir_with_parents("/run/dbus", 0755), ==, 0);
	dbus_pid = spawn_logged(argv, "dbus.log");
	while (bus_name_has_owner("org.freedesktop.DBus") != 1) {
		g_assert_cmpuint(now_usec(), <, deadline);
		g_assert_cmpint(waitpid(dbus_pid, NULL, WNOHANG), ==, 0);
		g_usleep(20 * 1000);
	}
}

/* Step 2 and 3 of the opening comment; NULL or why not. */
static const char *enter_live_sandbox(void)
{
	struct passwd *pw = getpwnam("systemd-network");

	if (!pw)
		return "no systemd-network user";
	/* A mount namespace of this process's own: the parent, outside the new PID namespace,
	 * must keep seeing its own /proc (LeakSanitizer lists its threads there at exit). */
	if (sandbox_enter_code(CLONE_NEWNS) != SANDBOX_OK)
		return "cannot make a mount namespace for the PID namespace";
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return "cannot mount a new /proc";
	if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return "cannot mount a tmpfs on /run";
	if (mount("tmpfs", NETWORKD_DIR, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return "cannot mount a tmpfs on " NETWORKD_DIR " (missing?)";
	if (mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return "cannot mount a read-only sysfs";
	if (g_mkdir_with_parents(RUN_DIR, 0755) < 0 || chown(RUN_DIR, pw->pw_uid, pw->pw_gid) < 0)
		return "cannot create " RUN_DIR;
	return NULL;
}

static void setup_live(void)
{
	run_ip_batch("link set lo up\n"
		     "link add " IFNAME " address " MAC " type veth peer name " PEER
		     " address 00:15:5d:aa:bb:02\n"
		     "link set " PEER " up\nlink set " IFNAME " up\n");
	hv0_index = (int)if_nametoindex(IFNAME);
	hv0p_index = (int)if_nametoindex(PEER);
	g_assert_cmpint(hv0_index, >, 0);
	start_dbus();
	start_networkd();
}

/* ---------------------------------------------------------------- live checks */

static bool list_has(const char *list, const char *item)
{
	g_auto(GStrv) items = g_strsplit(list, ";", -1);

	return g_strv_contains((const char *const *)items, item);
}

static void get_ip_info(struct netinfo_ip_info *info)
{
	g_autofree char *resolv = g_build_filename(tmpdir, "resolv.conf", NULL);
	struct netinfo_config cfg = {.dns = {.resolv_conf = resolv, .bus_address = ""}};
	struct netinfo *ni = NULL;

	g_assert_true(g_file_set_contents(resolv, "", 0, NULL));
	g_assert_cmpint(netinfo_new(&cfg, &ni), ==, 0);
	g_assert_cmpint(netinfo_collect_ip_info(ni, MAC, info), ==, 0);
	netinfo_free(ni);
}

/* Whether what GET_IP_INFO reports has every address of `present` and none of `absent`. */
static bool live_is(const struct netconf *present, const struct netconf *absent)
{
	struct netinfo_ip_info info;

	get_ip_info(&info);
	for (size_t i = 0; present && i < present->n_addrs; i++)
		if (!list_has(info.ip_addr, present->addrs[i].text))
			return false;
	for (size_t i = 0; present && i < present->n_gateways; i++)
		if (!list_has(info.gate_way, present->gateways[i].text))
			return false;
	for (size_t i = 0; absent && i < absent->n_addrs; i++)
		if (list_has(info.ip_addr, absent->addrs[i].text))
			return false;
	for (size_t i = 0; absent && i < absent->n_gateways; i++)
		if (list_has(info.gate_way, absent->gateways[i].text))
			return false;
	return true;
}

static void wait_live_is(const struct netconf *present, const struct netconf *absent)
{
	uint64_t deadline = now_usec() + 15 * USEC_PER_SEC;

	while (!live_is(present, absent)) {
		g_assert_cmpuint(now_usec(), <, deadline);
		g_usleep(50 * 1000);
	}
}

static char *link_state(int ifindex, const char *key)
{
	g_autofree char *path = g_strdup_printf(RUN_DIR "/links/%d", ifindex);
	g_autofree char *text = read_text(path);
	g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
	size_t klen = strlen(key);

	for (size_t i = 0; lines[i]; i++)
		if (strncmp(lines[i], key, klen) == 0 && lines[i][klen] == '=')
			return g_strdup(lines[i] + klen + 1);
	return NULL;
}

static void wait_link_state(int ifindex, const char *key, const char *value)
{
	uint64_t deadline = now_usec() + 10 * USEC_PER_SEC;

	for (;;) {
		g_autofree char *v = link_state(ifindex, key);

		if (v && strcmp(v, value) == 0)
			return;
		if (now_usec() >= deadline)
			g_error("link %d: %s=%s, expected %s", ifindex, key, v ? v : "(none)",
				value);
		g_usleep(50 * 1000);
	}
}

static int apply_timed(const struct netconf *cfg, uint64_t timeout_usec)
{
	struct netconf_env env = live_env(timeout_usec);
	uint64_t start = now_usec();
	int r = netconf_backend_networkd.apply(&env, cfg);

	g_test_message("apply() returned %d after %.1f ms", r,
		       (double)(now_usec() - start) / 1000.0);
	return r;
}

/* The host's first request on a link networkd leaves alone: the rollback removes our file,
 * networkd unmanages the link again and drops the addresses and routes it had set. */
static void test_live_restore_to_none(void)
{
	struct netconf a;
	struct netconf_env env = live_env(20 * USEC_PER_SEC);
	void *saved = NULL;

	if (live_skipped())
		return;
	cfg_a(&a, hv0_index);
	g_assert_false(g_file_test(OUR_FILE, G_FILE_TEST_EXISTS));
	wait_link_state(hv0_index, "ADMIN_STATE", "unmanaged");
	g_assert_cmpint(netconf_backend_networkd.save(&env, &a.target, &saved), ==, 0);
	g_assert_cmpint(apply_timed(&a, 20 * USEC_PER_SEC), ==, 0);
	g_assert_true(live_is(&a, NULL));
	env = live_env(20 * USEC_PER_SEC);
	g_assert_cmpint(netconf_backend_networkd.restore(&env, &a.target, saved), ==, 0);
	netconf_backend_networkd.free_saved(saved);
	g_assert_false(g_file_test(OUR_FILE, G_FILE_TEST_EXISTS));
	wait_link_state(hv0_index, "ADMIN_STATE", "unmanaged");
	wait_live_is(NULL, &a);
}

static void test_live_static(void)
{
	struct netconf a;
	struct netinfo_ip_info info;

	if (live_skipped())
		return;
	cfg_a(&a, hv0_index);
	g_assert_cmpint(apply_timed(&a, 20 * USEC_PER_SEC), ==, 0);
	assert_file(OUR_FILE, golden_a);
	/* apply() returned once networkd said configured: no waiting here. */
	g_assert_true(live_is(&a, NULL));
	get_ip_info(&info);
	g_test_message("GET_IP_INFO: ip=%s sub=%s gw=%s", info.ip_addr, info.sub_net,
		       info.gate_way);
	g_assert_cmpint(info.ifindex, ==, hv0_index);
	g_assert_cmpuint(info.addr_family, ==, NETINFO_FAMILY_IPV4 | NETINFO_FAMILY_IPV6);
	g_assert_false(info.dhcp_enabled);
	g_assert_true(list_has(info.sub_net, "255.255.255.0"));
	g_assert_true(list_has(info.sub_net, "/64"));
	/* DNS: networkd's own record of the link (no systemd-resolved here). */
	wait_link_state(hv0_index, "DNS", "192.0.2.53 2001:db8:1::53");
	wait_link_state(hv0_index, "NETWORK_FILE", OUR_FILE);
	g_assert_cmpint(
	    netconf_backend_networkd.manages(
		&(struct netconf_env){.networkd_run_dir = RUN_DIR, .bus_address = BUS_ADDRESS},
		&a.target),
	    ==, 1);
}

static void test_live_replace_and_idempotent(void)
{
	struct netconf a, b;
	g_autofree char *first = NULL;

	if (live_skipped())
		return;
	cfg_a(&a, hv0_index);
	cfg_b(&b, hv0_index);
	g_assert_cmpint(apply_timed(&a, 20 * USEC_PER_SEC), ==, 0);
	g_assert_true(live_is(&a, NULL));
	/* B replaces A: A's addresses and gateways are gone, not merged. */
	g_assert_cmpint(apply_timed(&b, 20 * USEC_PER_SEC), ==, 0);
	g_assert_true(live_is(&b, NULL));
	wait_live_is(&b, &a);
	wait_link_state(hv0_index, "DNS", "198.51.100.53");
	first = read_text(OUR_FILE);
	/* The same request again: same file, same state, success. */
	g_assert_cmpint(apply_timed(&b, 20 * USEC_PER_SEC), ==, 0);
	g_assert_true(live_is(&b, &a));
	assert_file(OUR_FILE, first);
}

static void test_live_deadline_restore(void)
{
	struct netconf a, c;
	struct netconf_env env = live_env(20 * USEC_PER_SEC);
	void *saved = NULL;

	if (live_skipped())
		return;
	cfg_a(&a, hv0_index);
	g_assert_cmpint(apply_timed(&a, 20 * USEC_PER_SEC), ==, 0);
	/* C: a gateway off every subnet of the link; networkd keeps waiting for it to become
	 * reachable, so the link never gets configured: the deadline ends apply(). */
	init_cfg(&c, hv0_index);
	c.ipv4 = c.ipv6 = NETCONF_METHOD_STATIC;
	add_addr(c.addrs, &c.n_addrs, "192.0.2.99", 24);
	add_addr(c.gateways, &c.n_gateways, "203.0.113.1", 0);
	g_assert_cmpint(netconf_backend_networkd.save(&env, &a.target, &saved), ==, 0);
	g_assert_cmpint(apply_timed(&c, 2 * USEC_PER_SEC), ==, -ETIME);
	/* networkd had started on C: its address is live. */
	wait_live_is(&(struct netconf){.n_addrs = 1, .addrs = {c.addrs[0]}}, NULL);
	env = live_env(20 * USEC_PER_SEC);
	g_assert_cmpint(netconf_backend_networkd.restore(&env, &a.target, saved), ==, 0);
	netconf_backend_networkd.free_saved(saved);
	assert_file(OUR_FILE, golden_a);
	g_assert_true(live_is(&a, &c));
}

static void test_live_stopped_restore(void)
{
	struct netconf a, b;
	struct netconf_env env = live_env(20 * USEC_PER_SEC);
	void *saved = NULL;
	int r;

	if (live_skipped())
		return;
	cfg_a(&a, hv0_index);
	cfg_b(&b, hv0_index);
	g_assert_cmpint(apply_timed(&a, 20 * USEC_PER_SEC), ==, 0);
	netstack_stop(&networkd_pid);
	g_assert_cmpint(netconf_backend_networkd.manages(&env, &a.target), ==, 0);
	g_assert_cmpint(netconf_backend_networkd.save(&env, &a.target, &saved), ==, 0);
	/* Nobody owns the name, and nothing is auto-started: a quick error, not the deadline. */
	r = apply_timed(&b, 20 * USEC_PER_SEC);
	g_assert_cmpint(r, <, 0);
	g_assert_cmpint(r, !=, -ETIME);
	{
		g_autofree char *written = read_text(OUR_FILE);

		g_assert_nonnull(strstr(written, "Address=198.51.100.20/25\n"));
	}
	env = live_env(5 * USEC_PER_SEC);
	/* The file comes back; re-applying needs networkd, which is not there. */
	g_assert_cmpint(netconf_backend_networkd.restore(&env, &a.target, saved), <, 0);
	netconf_backend_networkd.free_saved(saved);
	assert_file(OUR_FILE, golden_a);
	/* networkd back: A, not B. */
	start_networkd();
	wait_link_state(hv0_index, "ADMIN_STATE", "configured");
	wait_live_is(&a, &b);
}

/* One DHCPDISCOVER from mac on the peer's UDP port 67, within a few seconds. */
static void expect_dhcp_discover(int fd)
{
	uint64_t deadline = now_usec() + 15 * USEC_PER_SEC;
	uint8_t want_mac[6] = {0x00, 0x15, 0x5d, 0xaa, 0xbb, 0x01};

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint8_t buf[1500];
		ssize_t n;

		g_assert_cmpuint(now_usec(), <, deadline);
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 240 || buf[0] != 1 || memcmp(buf + 28, want_mac, 6) != 0)
			continue;
		g_assert_cmpuint(buf[236], ==, 99); /* the magic cookie */
		for (ssize_t i = 240; i + 2 < n && buf[i] != 255;) {
			if (buf[i] == 0) {
				i++;
				continue;
			}
			if (buf[i] == 53 && buf[i + 1] == 1 && buf[i + 2] == 1)
				return; /* DHCPDISCOVER */
			i += 2 + buf[i + 1];
		}
	}
}

static void test_live_dhcp(void)
{
	struct netconf d;
	struct netinfo_ip_info info;
	int fd, one = 1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(67)};

	if (live_skipped())
		return;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), ==, 0);
	g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, PEER, sizeof(PEER)), ==, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);

	cfg_dhcp(&d, hv0_index);
	/* No DHCP server and no router: networkd stays "configuring", which is applied. */
	g_assert_cmpint(apply_timed(&d, 20 * USEC_PER_SEC), ==, 0);
	assert_file(OUR_FILE, golden_dhcp);
	wait_link_state(hv0_index, "NETWORK_FILE", OUR_FILE);
	wait_link_state(hv0_index, "ADMIN_STATE", "configuring");
	expect_dhcp_discover(fd);
	close(fd);
	/* GET_IP_INFO's DHCP flag, from networkd's state and our file. */
	get_ip_info(&info);
	g_assert_true(info.dhcp_enabled);
}

/* Static IPv4, IPv6 from router advertisements that never come: networkd stays
 * "configuring"; applied once the static address and gateway are on the link. */
static void test_live_v4_ra(void)
{
	struct netconf r;
	struct netinfo_ip_info info;

	if (live_skipped())
		return;
	cfg_v4_ra(&r, hv0_index);
	g_assert_cmpint(apply_timed(&r, 20 * USEC_PER_SEC), ==, 0);
	assert_file(OUR_FILE, golden_v4_ra);
	g_assert_true(live_is(&r, NULL));
	get_ip_info(&info);
	g_assert_false(info.dhcp_enabled);
	wait_link_state(hv0_index, "ADMIN_STATE", "configuring");
	wait_link_state(hv0_index, "DNS", "192.0.2.53");
}

static void test_live_earlier_file_wins(void)
{
	const char *earlier = NETWORKD_DIR "/01-admin.network";
	struct netconf a;

	if (live_skipped())
		return;
	cfg_a(&a, hv0_index);
	g_assert_true(g_file_set_contents(
	    earlier, "[Match]\nName=hv0\n\n[Network]\nAddress=203.0.113.77/24\nIPv6AcceptRA=no\n",
	    -1, NULL));
	g_assert_cmpint(apply_timed(&a, 20 * USEC_PER_SEC), ==, -EEXIST);
	/* Let networkd finish with that file first: networkd 252 reconfiguring a link while
	 * its address requests are still queued keeps them as static addresses that never
	 * become ready, and the link then stays "configuring" forever. */
	wait_link_state(hv0_index, "NETWORK_FILE", earlier);
	wait_link_state(hv0_index, "ADMIN_STATE", "configured");
	g_assert_cmpint(g_unlink(earlier), ==, 0);
	g_assert_cmpint(apply_timed(&a, 20 * USEC_PER_SEC), ==, 0);
	wait_link_state(hv0_index, "NETWORK_FILE", OUR_FILE);
}

/* A file that matches no link (here: another MAC) leaves hv0 unmanaged: -ENODEV at once,
 * not the deadline; the rollback brings the previous file back. */
static void test_live_no_match(void)
{
	struct netconf a, other;
	struct netconf_env env = live_env(20 * USEC_PER_SEC);
	void *saved = NULL;

	if (live_skipped())
		return;
	cfg_a(&a, hv0_index);
	g_assert_cmpint(apply_timed(&a, 20 * USEC_PER_SEC), ==, 0);
	cfg_b(&other, hv0_index);
	g_strlcpy(other.target.mac_text, "00:15:5D:00:00:99", sizeof(other.target.mac_text));
	g_assert_cmpint(netconf_backend_networkd.save(&env, &a.target, &saved), ==, 0);
	g_assert_cmpint(apply_timed(&other, 20 * USEC_PER_SEC), ==, -ENODEV);
	env = live_env(20 * USEC_PER_SEC);
	g_assert_cmpint(netconf_backend_networkd.restore(&env, &a.target, saved), ==, 0);
	netconf_backend_networkd.free_saved(saved);
	assert_file(OUR_FILE, golden_a);
	wait_link_state(hv0_index, "ADMIN_STATE", "configured");
	wait_live_is(&a, &other);
}

static void test_live_manages(void)
{
	struct netconf a, peer;
	struct netconf_env env = live_env(5 * USEC_PER_SEC);

	if (live_skipped())
		return;
	cfg_a(&a, hv0_index);
	g_assert_cmpint(apply_timed(&a, 20 * USEC_PER_SEC), ==, 0);
	g_assert_cmpint(netconf_backend_networkd.manages(&env, &a.target), ==, 1);
	/* The peer matches no file: networkd leaves it unmanaged. */
	init_cfg(&peer, hv0p_index);
	g_strlcpy(peer.target.ifname, PEER, sizeof(peer.target.ifname));
	wait_link_state(hv0p_index, "ADMIN_STATE", "unmanaged");
	g_assert_cmpint(netconf_backend_networkd.manages(&env, &peer.target), ==, 0);
	/* networkd unreachable on that bus address. */
	env.bus_address = "unix:path=/nonexistent/hvguest-test-no-bus";
	g_assert_cmpint(netconf_backend_networkd.manages(&env, &a.target), ==, 0);
}

/* ---------------------------------------------------------------- main */

static const char *live_unavailable(void)
{
	g_autofree char *dbus = g_find_program_in_path("dbus-daemon");

	if (geteuid() != 0)
		return "needs root to run systemd-networkd in namespaces of its own";
	if (!networkd_binary())
		return "systemd-networkd is not installed";
	if (!dbus)
		return "dbus-daemon is not installed";
	if (!getpwnam("systemd-network"))
		return "no systemd-network user";
	return sandbox_unavailable(CLONE_NEWNS | CLONE_NEWNET);
}

static void remove_tmpdir(void)
{
	const char *argv[] = {"/bin/rm", "-rf", tmpdir, NULL};

	g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, NULL,
		     NULL);
}

static int run_tests(void)
{
	int r;

	if (!live_skip) {
		live_skip = enter_live_sandbox();
		if (!live_skip)
			setup_live();
	}
	r = g_test_run();
	stop_daemons();
	if (r == 0)
		remove_tmpdir();
	else
		g_printerr("# logs kept in %s\n", tmpdir);
	return r;
}

/* Step 1 of the opening comment: the tests run as PID 1 of a PID namespace of their own. */
static int run_in_pid_namespace(void)
{
	int alive[2], status = 0, own_ns;
	pid_t pid;

	/* This process stays in its own PID namespace; only its next child enters the new one.
	 * It goes back to making children in its own right after that fork: once the new
	 * namespace's first process has ended, no process can be made in it, and LeakSanitizer
	 * makes one (its tracer) at exit. */
	own_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (own_ns < 0 || unshare(CLONE_NEWPID) < 0) {
		if (own_ns >= 0)
			close(own_ns);
		live_skip = "unshare(CLONE_NEWPID) refused";
		return run_tests();
	}
	/* The parent is outside the child's PID namespace (getppid() is 0 there): a pipe
	 * tells the child whether the parent died before PR_SET_PDEATHSIG took effect. */
	if (pipe2(alive, O_CLOEXEC) < 0)
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		struct pollfd p = {.fd = alive[0], .events = POLLIN};

		close(alive[1]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || poll(&p, 1, 0) != 0)
			_exit(1);
		_exit(run_tests());
	}
	close(alive[0]);
	if (setns(own_ns, CLONE_NEWPID) < 0)
		fprintf(stderr, "test-netconf-networkd: setns back to the own PID namespace: %m\n");
	close(own_ns);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	close(alive[1]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("hvguest-networkd-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);

	g_test_add_func("/netconf-networkd/offline/golden-static", test_golden_static);
	g_test_add_func("/netconf-networkd/offline/golden-dhcp", test_golden_dhcp);
	g_test_add_func("/netconf-networkd/offline/golden-v6only", test_golden_v6only);
	g_test_add_func("/netconf-networkd/offline/golden-v4-ra", test_golden_v4_ra);
	g_test_add_func("/netconf-networkd/offline/golden-dhcp-dns", test_golden_dhcp_dns);
	g_test_add_func("/netconf-networkd/offline/save-restore", test_offline_save_restore);
	g_test_add_func("/netconf-networkd/offline/manages", test_offline_manages);
	/* First: it needs the link as networkd found it, with no file of ours. */
	g_test_add_func("/netconf-networkd/live/restore-to-none", test_live_restore_to_none);
	g_test_add_func("/netconf-networkd/live/static", test_live_static);
	g_test_add_func("/netconf-networkd/live/replace-idempotent",
			test_live_replace_and_idempotent);
	g_test_add_func("/netconf-networkd/live/deadline-restore", test_live_deadline_restore);
	g_test_add_func("/netconf-networkd/live/stopped-restore", test_live_stopped_restore);
	g_test_add_func("/netconf-networkd/live/dhcp", test_live_dhcp);
	g_test_add_func("/netconf-networkd/live/v4-static-v6-ra", test_live_v4_ra);
	g_test_add_func("/netconf-networkd/live/earlier-file-wins", test_live_earlier_file_wins);
	g_test_add_func("/netconf-networkd/live/no-match", test_live_no_match);
	g_test_add_func("/netconf-networkd/live/manages", test_live_manages);

	live_skip = live_unavailable();
	if (live_skip)
		return run_tests();
	/* Namespaces first (this process stays in them too, doing nothing but wait). */
	live_skip = sandbox_enter(CLONE_NEWNS | CLONE_NEWNET);
	if (live_skip)
		return run_tests();
	return run_in_pid_namespace();
}
