/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ifupdown SET_IP_INFO backend against the real ifup/ifdown (Debian's ifupdown 0.8),
 * as root, in a private network and mount namespace of the test's own:
 *
 *   - a veth pair hvt0 (the "adapter", MAC 00:15:5D:AA:BB:01) / hvt0p (its peer, up, so
 *     that IPv6 duplicate address detection completes);
 *   - a private interfaces file, interfaces.d and state dir in a temporary directory
 *     (ifup/ifdown get -i and --state-dir: nothing under /etc/network or /run is used);
 *   - tmpfs over /etc/network/if-{pre-up,up,down,post-down}.d in the private mount
 *     namespace, so the machine's hook scripts do not run.
 *
 * Proves, by reading the kernel back (ip over rtnetlink, and netinfo_collect_ip_info(),
 * the GET_IP_INFO code path): static IPv4 + IPv6 with two addresses per family, the
 * default routes of both families, the DHCP flag; a second configuration removes the
 * first one's addresses and routes; the same configuration twice gives the same state;
 * a failing ifup (a gateway the kernel refuses, or an ifup that fails) followed by
 * restore() puts back the files byte for byte and the previous live addresses.
 * DNS servers are only written (dns-nameservers needs resolvconf, not installed here).
 * DHCP: there is no DHCP client or server here, so a fake dhclient (laid over /usr/sbin by
 * an overlay in the private mount namespace) stands in: it proves that ifup accepts our
 * "inet dhcp" stanza and runs the client, that ifdown releases it before a static request,
 * and that GET_IP_INFO reports DHCP; not any DHCP exchange.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <net/if.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "daemons/kvp/netconf.h"
#include "daemons/kvp/netinfo.h"
#include "shared/time-util.h"
#include "tests/netconf-cfg.h"
#include "tests/sandbox.h"

#define IFNAME "hvt0"
#define MAC_TEXT "00:15:5D:AA:BB:01"

static const uint8_t mac[6] = {0x00, 0x15, 0x5d, 0xaa, 0xbb, 0x01};
static const char *skip_reason;
static char *tmpdir, *interfaces, *ifdir, *statedir, *ours, *resolv, *ip_path;
static char *dhclient_log;
static const char *dhcp_skip_reason = "no fake DHCP client";
static struct netconf_env env;

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

static char *run_ip(const char *args)
{
	g_autofree char *cmd = g_strdup_printf("%s %s", ip_path, args);
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) argv = NULL;
	char *out = NULL, *err = NULL;
	int status = 0;

	g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, &error));
	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
				   &status, &error));
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("%s failed: %s", cmd, err);
	g_free(err);
	return out;
}

static void set_deadline(void)
{
	env.deadline_usec = now_usec() + 30 * 1000 * 1000ULL;
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "a/p a/p ..." of the interface's global addresses, sorted (ip -o addr). */
static char *global_addrs(void)
{
	g_autofree char *out = run_ip("-o addr show dev " IFNAME " scope global");
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
	g_autoptr(GPtrArray) addrs = g_ptr_array_new_with_free_func(g_free);

	for (size_t i = 0; lines[i]; i++) {
		g_auto(GStrv) w = g_strsplit_set(lines[i], " \t", -1);

		for (size_t j = 0; w[j] && w[j + 1]; j++)
			if (strcmp(w[j], "inet") == 0 || strcmp(w[j], "inet6") == 0) {
				g_ptr_array_add(addrs, g_strdup(w[j + 1]));
				break;
			}
	}
	g_ptr_array_sort(addrs, compare_strings);
	g_ptr_array_add(addrs, NULL);
	return g_strjoinv(" ", (char **)addrs->pdata);
}

static void assert_addrs(const char *want)
{
	g_autofree char *got = global_addrs();

	g_assert_cmpstr(got, ==, want);
}

/* The default routes of a family ("-4"/"-6") on the interface: "via a via b". */
static char *default_routes(const char *family)
{
	g_autofree char *args = g_strdup_printf("%s route show default dev " IFNAME, family);
	g_autofree char *out = run_ip(args);
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
	g_autoptr(GString) s = g_string_new(NULL);

	for (size_t i = 0; lines[i]; i++) {
		g_auto(GStrv) w = g_strsplit(lines[i], " ", -1);

		for (size_t j = 0; w[j] && w[j + 1]; j++)
			if (strcmp(w[j], "via") == 0)
				g_string_append_printf(s, "%svia %s", s->len ? " " : "", w[j + 1]);
	}
	return g_string_free(g_steal_pointer(&s), FALSE);
}

static void collect(struct netinfo_ip_info *info)
{
	const char *const exclude[] = {NULL};
	struct netinfo_config cfg = {
	    .exclude = exclude,
	    .dns = {.resolv_conf = resolv, .bus_address = ""},
	    .dhcp = {.root = tmpdir},
	};
	struct netinfo *ni = NULL;

	g_assert_cmpint(netinfo_new(&cfg, &ni), ==, 0);
	g_assert_cmpint(netinfo_collect_ip_info(ni, MAC_TEXT, info), ==, 0);
	netinfo_free(ni);
}

static char *read_all(const char *path)
{
	char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) ? text : NULL;
}

static void write_text(const char *path, const char *text)
{
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* The real ifup/ifdown on the private files, optionally with one more option. */
static int run_tool(const char *tool, const char *opt)
{
	const char *argv[8];
	size_t n = 0;

	argv[n++] = tool;
	if (opt)
		argv[n++] = opt;
	argv[n++] = "-i";
	argv[n++] = interfaces;
	argv[n++] = "--state-dir";
	argv[n++] = statedir;
	argv[n++] = IFNAME;
	argv[n] = NULL;
	set_deadline();
	return netconf_run(argv, env.deadline_usec, NULL);
}

/* No configuration at all: our file gone, the interface deconfigured and up, no state. */
static void reset(const char *main_text)
{
	g_autofree char *state = g_build_filename(statedir, "ifstate." IFNAME, NULL);

	(void)run_tool(env.ifdown_path, "--force");
	g_unlink(ours);
	g_unlink(state);
	write_text(interfaces, main_text);
	g_free(run_ip("addr flush dev " IFNAME " scope global"));
	g_free(run_ip("link set " IFNAME " up"));
	set_deadline();
}

static void cfg1(struct netconf *cfg)
{
	netconf_cfg_init(cfg, IFNAME, (int)if_nametoindex(IFNAME), mac);
	netconf_cfg_addr(cfg, "192.0.2.10", 24);
	netconf_cfg_addr(cfg, "192.0.2.11", 24);
	netconf_cfg_addr(cfg, "2001:db8:1::10", 64);
	netconf_cfg_addr(cfg, "2001:db8:1::11", 64);
	netconf_cfg_gateway(cfg, "192.0.2.1");
	netconf_cfg_gateway(cfg, "2001:db8:1::1");
	netconf_cfg_dns(cfg, "192.0.2.53");
	netconf_cfg_dns(cfg, "2001:db8::53");
}

#define CFG1_ADDRS "192.0.2.10/24 192.0.2.11/24 2001:db8:1::10/64 2001:db8:1::11/64"

static void cfg2(struct netconf *cfg)
{
	netconf_cfg_init(cfg, IFNAME, (int)if_nametoindex(IFNAME), mac);
	netconf_cfg_addr(cfg, "203.0.113.5", 28);
	netconf_cfg_addr(cfg, "2001:db8:2::5", 64);
	netconf_cfg_gateway(cfg, "203.0.113.1");
}

#define CFG2_ADDRS "2001:db8:2::5/64 203.0.113.5/28"

static bool skip_if_needed(void)
{
	if (skip_reason)
		g_test_skip(skip_reason);
	return skip_reason != NULL;
}

static void assert_cfg1_live(void)
{
	g_autofree char *r4 = default_routes("-4"), *r6 = default_routes("-6");
	struct netinfo_ip_info info;

	assert_addrs("192.0.2.10/24 192.0.2.11/24 2001:db8:1::10/64 2001:db8:1::11/64");
	g_assert_cmpstr(r4, ==, "via 192.0.2.1");
	g_assert_cmpstr(r6, ==, "via 2001:db8:1::1");
	/* What the host reads back through GET_IP_INFO. */
	collect(&info);
	g_assert_cmpstr(info.ifname, ==, IFNAME);
	g_assert_true(g_str_has_prefix(info.ip_addr, "192.0.2.10;192.0.2.11;"));
	g_assert_nonnull(strstr(info.ip_addr, "2001:db8:1::10"));
	g_assert_nonnull(strstr(info.ip_addr, "2001:db8:1::11"));
	g_assert_true(g_str_has_prefix(info.sub_net, "255.255.255.0;255.255.255.0;/64;/64"));
	g_assert_cmpstr(info.gate_way, ==, "192.0.2.1;2001:db8:1::1;");
	g_assert_cmpuint(info.addr_family, ==, NETINFO_FAMILY_IPV4 | NETINFO_FAMILY_IPV6);
	g_assert_false(info.dhcp_enabled);
}

static void test_static_replace_restore(void)
{
	static const char main_before[] = "auto lo\niface lo inet loopback\n\n"
					  "iface " IFNAME " inet static\n"
					  "\taddress 198.51.100.7/24\n"
					  "\tgateway 198.51.100.1\n";
	g_autofree char *main_after = NULL, *r4 = NULL, *r6 = NULL;
	struct netconf cfg;
	void *saved = NULL;
	uint64_t t0;

	if (skip_if_needed())
		return;
	reset(main_before);
	/* The machine's own definition, up. */
	g_assert_cmpint(run_tool(env.ifup_path, NULL), ==, 0);
	assert_addrs("198.51.100.7/24");
	cfg1(&cfg);
	g_assert_cmpint(netconf_backend_ifupdown.manages(&env, &cfg.target), ==, 1);
	g_assert_cmpint(netconf_backend_ifupdown.save(&env, &cfg.target, &saved), ==, 0);

	t0 = now_usec();
	g_assert_cmpint(netconf_backend_ifupdown.apply(&env, &cfg), ==, 0);
	g_test_message("apply (ifdown of the old definition + ifup): %.2f s",
		       (double)(now_usec() - t0) / 1e6);
	assert_cfg1_live();
	main_after = read_all(interfaces);
	g_assert_nonnull(strstr(main_after, "#hvguest# iface " IFNAME " inet static\n"));

	/* The same request again: the same state. */
	set_deadline();
	g_assert_cmpint(netconf_backend_ifupdown.apply(&env, &cfg), ==, 0);
	assert_cfg1_live();

	/* Another request replaces it: nothing of the first one stays. */
	cfg2(&cfg);
	set_deadline();
	g_assert_cmpint(netconf_backend_ifupdown.apply(&env, &cfg), ==, 0);
	assert_addrs(CFG2_ADDRS);
	r4 = default_routes("-4");
	r6 = default_routes("-6");
	g_assert_cmpstr(r4, ==, "via 203.0.113.1");
	g_assert_cmpstr(r6, ==, "");

	/* The rollback: the machine's definition, live again, and its file as it was. */
	set_deadline();
	g_assert_cmpint(netconf_backend_ifupdown.restore(&env, &cfg.target, saved), ==, 0);
	netconf_backend_ifupdown.free_saved(saved);
	assert_addrs("198.51.100.7/24");
	g_free(r4);
	r4 = default_routes("-4");
	g_assert_cmpstr(r4, ==, "via 198.51.100.1");
	g_free(main_after);
	main_after = read_all(interfaces);
	g_assert_cmpstr(main_after, ==, main_before);
	g_assert_false(g_file_test(ours, G_FILE_TEST_EXISTS));
}

static void test_failure_rollback(void)
{
	g_autofree char *main_before = NULL, *ours_before = NULL, *main_after = NULL;
	g_autofree char *ours_after = NULL, *r4 = NULL;
	struct netconf_env bad_env;
	struct netconf cfg;
	void *saved = NULL;

	if (skip_if_needed())
		return;
	reset("");
	cfg1(&cfg);
	g_assert_cmpint(netconf_backend_ifupdown.apply(&env, &cfg), ==, 0);
	assert_cfg1_live();
	main_before = read_all(interfaces);
	ours_before = read_all(ours);

	/* A gateway the kernel refuses: ifup fails after adding the first address. */
	cfg2(&cfg);
	netconf_cfg_parse(&cfg.gateways[0], "224.0.0.1", 0);
	g_assert_cmpint(netconf_backend_ifupdown.save(&env, &cfg.target, &saved), ==, 0);
	set_deadline();
	g_assert_cmpint(netconf_backend_ifupdown.apply(&env, &cfg), ==, -EIO);
	set_deadline();
	g_assert_cmpint(netconf_backend_ifupdown.restore(&env, &cfg.target, saved), ==, 0);
	netconf_backend_ifupdown.free_saved(saved);
	assert_cfg1_live();
	main_after = read_all(interfaces);
	ours_after = read_all(ours);
	g_assert_cmpstr(main_after, ==, main_before);
	g_assert_cmpstr(ours_after, ==, ours_before);

	/* An ifup that fails (the configured ifup_path): the same. */
	cfg2(&cfg);
	bad_env = env;
	bad_env.ifup_path = "/bin/false";
	g_assert_cmpint(netconf_backend_ifupdown.save(&env, &cfg.target, &saved), ==, 0);
	set_deadline();
	bad_env.deadline_usec = env.deadline_usec;
	g_assert_cmpint(netconf_backend_ifupdown.apply(&bad_env, &cfg), ==, -EIO);
	/* ifdown took the old definition down before the file changed. */
	r4 = default_routes("-4");
	g_assert_cmpstr(r4, ==, "");
	g_assert_cmpint(netconf_backend_ifupdown.restore(&env, &cfg.target, saved), ==, 0);
	netconf_backend_ifupdown.free_saved(saved);
	assert_cfg1_live();
	g_free(ours_after);
	ours_after = read_all(ours);
	g_assert_cmpstr(ours_after, ==, ours_before);
}

static void test_ipv6_auto_only(void)
{
	struct netinfo_ip_info info;
	g_autofree char *text = NULL;
	struct netconf cfg;

	if (skip_if_needed())
		return;
	reset("");
	/* No IPv4 address: IPv4 disabled, IPv6 automatic (ifupdown's inet6 auto waits for the
	 * link-local address, no DHCP client involved). */
	netconf_cfg_init(&cfg, IFNAME, (int)if_nametoindex(IFNAME), mac);
	g_assert_cmpint(netconf_backend_ifupdown.apply(&env, &cfg), ==, 0);
	text = read_all(ours);
	g_assert_nonnull(strstr(text, "iface " IFNAME " inet6 auto\n"));
	g_assert_null(strstr(text, " inet "));
	assert_addrs("");
	collect(&info);
	g_assert_cmpuint(info.addr_family, ==, NETINFO_FAMILY_IPV6);
	g_assert_true(g_str_has_prefix(info.ip_addr, "fe80::"));
}

static void test_dhcp_fake_client(void)
{
	g_autofree char *log = NULL, *text = NULL;
	struct netinfo_ip_info info;
	struct netconf cfg;

	if (skip_if_needed())
		return;
	if (dhcp_skip_reason) {
		g_test_skip(dhcp_skip_reason);
		return;
	}
	reset("");
	g_unlink(dhclient_log);
	/* DHCP: ifup runs "the" DHCP client (a fake one here: it adds 192.0.2.99/24, and
	 * flushes on release), and GET_IP_INFO reports DHCP from the file we wrote. */
	netconf_cfg_init(&cfg, IFNAME, (int)if_nametoindex(IFNAME), mac);
	netconf_cfg_dhcp(&cfg);
	netconf_cfg_dns(&cfg, "192.0.2.53");
	g_assert_cmpint(netconf_backend_ifupdown.apply(&env, &cfg), ==, 0);
	text = read_all(ours);
	g_assert_nonnull(strstr(text, "iface " IFNAME " inet dhcp\n"));
	assert_addrs("192.0.2.99/24");
	log = read_all(dhclient_log);
	g_assert_nonnull(log);
	g_assert_true(g_str_has_prefix(log, "dhclient -4 "));
	g_assert_true(g_str_has_suffix(log, " " IFNAME "\n"));
	collect(&info);
	g_assert_true(info.dhcp_enabled);
	g_assert_true(g_str_has_prefix(info.ip_addr, "192.0.2.99"));

	/* Static replaces DHCP: ifdown releases the lease before the file changes. */
	cfg1(&cfg);
	set_deadline();
	g_assert_cmpint(netconf_backend_ifupdown.apply(&env, &cfg), ==, 0);
	g_free(log);
	log = read_all(dhclient_log);
	g_assert_nonnull(strstr(log, "\ndhclient -4 -v -i -r "));
	assert_cfg1_live();
}

/* A fake dhclient where ifupdown looks for one (/sbin -> /usr/sbin), through an overlay
 * in the private mount namespace: the machine's /usr/sbin is not touched. */
static void setup_fake_dhclient(void)
{
	g_autofree char *upper = g_build_filename(tmpdir, "sbin-upper", NULL);
	g_autofree char *work = g_build_filename(tmpdir, "sbin-work", NULL);
	g_autofree char *opts = NULL, *body = NULL;

	if (g_file_test("/usr/sbin/dhclient", G_FILE_TEST_EXISTS) ||
	    g_file_test("/sbin/dhclient", G_FILE_TEST_EXISTS)) {
		dhcp_skip_reason = "a real dhclient is installed (the test fakes one)";
		return;
	}
	g_assert_cmpint(g_mkdir_with_parents(upper, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(work, 0755), ==, 0);
	opts = g_strdup_printf("lowerdir=/usr/sbin,upperdir=%s,workdir=%s", upper, work);
	if (mount("overlay", "/usr/sbin", "overlay", 0, opts) < 0) {
		dhcp_skip_reason = "cannot lay an overlay over /usr/sbin for a fake dhclient";
		return;
	}
	dhclient_log = g_build_filename(tmpdir, "dhclient.log", NULL);
	body =
	    g_strdup_printf("#!/bin/sh\n"
			    "echo \"dhclient $*\" >>'%s'\n"
			    "for a; do i=$a; done\n"
			    "case \" $* \" in\n"
			    "*\" -r \"*|*\" -x \"*) exec %s addr flush dev \"$i\" scope global;;\n"
			    "*) exec %s addr add 192.0.2.99/24 dev \"$i\";;\n"
			    "esac\n",
			    dhclient_log, ip_path, ip_path);
	write_text("/usr/sbin/dhclient", body);
	g_assert_cmpint(g_chmod("/usr/sbin/dhclient", 0755), ==, 0);
	dhcp_skip_reason = NULL;
}

static void setup(void)
{
	const char *hooks[] = {"if-pre-up.d", "if-up.d", "if-down.d", "if-post-down.d"};
	g_autofree char *ifup = find_tool("ifup"), *ifdown = find_tool("ifdown");
	g_autofree char *etc = NULL;

	ip_path = find_tool("ip");
	if (!ifup || !ifdown || !ip_path) {
		skip_reason = "ifupdown or iproute2 is not installed";
		return;
	}
	skip_reason = sandbox_enter(CLONE_NEWNET | CLONE_NEWNS);
	if (skip_reason)
		return;
	for (size_t i = 0; i < G_N_ELEMENTS(hooks); i++) {
		g_autofree char *d = g_build_filename("/etc/network", hooks[i], NULL);

		if (g_file_test(d, G_FILE_TEST_IS_DIR) &&
		    mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
			skip_reason = "cannot hide the machine's ifupdown hooks";
			return;
		}
	}
	tmpdir = g_dir_make_tmp("test-netconf-ifupdown-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);
	etc = g_build_filename(tmpdir, "etc", "network", NULL);
	interfaces = g_build_filename(etc, "interfaces", NULL);
	ifdir = g_build_filename(etc, "interfaces.d", NULL);
	statedir = g_build_filename(tmpdir, "run", "network", NULL);
	ours = g_build_filename(ifdir, "hvguest-" IFNAME, NULL);
	resolv = g_build_filename(tmpdir, "resolv.conf", NULL);
	g_assert_cmpint(g_mkdir_with_parents(ifdir, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(statedir, 0755), ==, 0);
	write_text(resolv, "nameserver 192.0.2.53\n");
	env = (struct netconf_env){
	    .ifupdown_interfaces = interfaces,
	    .ifupdown_dir = ifdir,
	    .ifupdown_state_dir = statedir,
	    .ifup_path = g_steal_pointer(&ifup),
	    .ifdown_path = g_steal_pointer(&ifdown),
	};
	setup_fake_dhclient();
	g_free(run_ip("link set lo up"));
	g_free(run_ip("link add " IFNAME " address " MAC_TEXT " type veth peer name " IFNAME "p"));
	g_free(run_ip("link set " IFNAME "p up"));
}

int main(int argc, char **argv)
{
	int r;

	g_test_init(&argc, &argv, NULL);
	setup();
	g_test_add_func("/netconf/ifupdown/real/static-replace-restore",
			test_static_replace_restore);
	g_test_add_func("/netconf/ifupdown/real/failure-rollback", test_failure_rollback);
	g_test_add_func("/netconf/ifupdown/real/ipv6-auto-only", test_ipv6_auto_only);
	g_test_add_func("/netconf/ifupdown/real/dhcp-fake-client", test_dhcp_fake_client);
	r = g_test_run();
	if (tmpdir) {
		const char *rm[] = {"/bin/rm", "-rf", tmpdir, NULL};

		g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, NULL,
			     NULL);
	}
	return r;
}
