/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the ifupdown SET_IP_INFO backend (daemons/kvp/netconf-ifupdown.c), on
 * files only: ifup and ifdown are fake scripts that log their arguments and the stanza file
 * they saw, so the order (ifdown on the old definition before the file changes) is
 * checked without root. The real ifup runs in tests/integration/test-netconf-ifupdown.
 *
 * Proves: the stanza file's exact text (static with several addresses per family, DHCP),
 * other definitions of the interface commented out, the source line added once, the
 * rollback restoring every byte, manages(), and the refusals (a gateway without an
 * address stanza, a failing ifup). The GET_IP_INFO DHCP flag read back from a DHCP file.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemons/kvp/dhcp.h"
#include "daemons/kvp/netconf.h"
#include "shared/time-util.h"
#include "tests/netconf-cfg.h"

static const uint8_t mac[6] = {0x00, 0x15, 0x5d, 0xaa, 0xbb, 0x01};

struct fixture {
	char *root; /* <root>/etc/network/{interfaces,interfaces.d}, <root>/run/network */
	char *interfaces, *dir, *state, *ours, *log, *ifup, *ifdown;
	struct netconf_env env;
};

static char *read_all(const char *path)
{
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	return text;
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
						name, f->log, f->ours, f->log, status);

	write_text(path, body);
	g_assert_cmpint(g_chmod(path, 0755), ==, 0);
	return path;
}

static void fixture_set_up(struct fixture *f, gconstpointer data)
{
	g_autofree char *etc = NULL, *run = NULL;

	(void)data;
	f->root = g_dir_make_tmp("test-netconf-ifupdown-XXXXXX", NULL);
	g_assert_nonnull(f->root);
	etc = g_build_filename(f->root, "etc", "network", NULL);
	run = g_build_filename(f->root, "run", "network", NULL);
	f->interfaces = g_build_filename(etc, "interfaces", NULL);
	f->dir = g_build_filename(etc, "interfaces.d", NULL);
	f->state = g_strdup(run);
	f->ours = g_build_filename(f->dir, "hvguest-eth0", NULL);
	f->log = g_build_filename(f->root, "log", NULL);
	g_assert_cmpint(g_mkdir_with_parents(f->dir, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(f->state, 0755), ==, 0);
	f->ifup = fake_tool(f, "ifup", 0);
	f->ifdown = fake_tool(f, "ifdown", 0);
	f->env = (struct netconf_env){
	    .ifupdown_interfaces = f->interfaces,
	    .ifupdown_dir = f->dir,
	    .ifupdown_state_dir = f->state,
	    .ifup_path = f->ifup,
	    .ifdown_path = f->ifdown,
	    .deadline_usec = now_usec() + 10 * 1000 * 1000ULL,
	};
}

static void fixture_tear_down(struct fixture *f, gconstpointer data)
{
	(void)data;
	const char *argv[] = {"/bin/rm", "-rf", f->root, NULL};

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
				   NULL, NULL, NULL));
	g_free(f->root);
	g_free(f->interfaces);
	g_free(f->dir);
	g_free(f->state);
	g_free(f->ours);
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
	netconf_cfg_gateway(cfg, "192.0.2.1");
	netconf_cfg_gateway(cfg, "2001:db8:1::1");
	netconf_cfg_gateway(cfg, "192.0.2.2");
	netconf_cfg_dns(cfg, "192.0.2.53");
	netconf_cfg_dns(cfg, "2001:db8::53");
}

static const char static_golden[] =
    "# Written by hv-kvpd: the network settings the Hyper-V host set for eth0 "
    "(00:15:5D:AA:BB:01).\n"
    "# The host's next request replaces this file.\n"
    "auto eth0\n"
    "iface eth0 inet static\n"
    "\taddress 192.0.2.10/24\n"
    "\tgateway 192.0.2.1\n"
    "\tdns-nameservers 192.0.2.53 2001:db8::53\n"
    "iface eth0 inet static\n"
    "\taddress 192.0.2.11/25\n"
    "\tgateway 192.0.2.2\n"
    "\tmetric 1\n"
    "iface eth0 inet6 static\n"
    "\taddress 2001:db8:1::10/64\n"
    "\tgateway 2001:db8:1::1\n"
    "iface eth0 inet6 static\n"
    "\taddress 2001:db8:1::11/64\n";

static const char main_before[] = "# interfaces(5) file used by ifup(8) and ifdown(8)\n"
				  "auto lo\n"
				  "iface lo inet loopback\n"
				  "\n"
				  "allow-hotplug eth0\n"
				  "iface eth0 inet static\n"
				  "\taddress 198.51.100.7/24\n"
				  "# a comment inside\n"
				  "\tgateway 198.51.100.1\n"
				  "\n"
				  "iface eth1 inet dhcp\n"
				  "iface eth0.5 inet dhcp\n";

static const char cloud_before[] = "auto eth0\niface eth0 inet6 auto\n\taccept_ra 2\n";

static void test_static_golden(struct fixture *f, gconstpointer data)
{
	g_autofree char *cloud = g_build_filename(f->dir, "50-cloud-init", NULL);
	g_autofree char *ours = NULL, *main_after = NULL, *cloud_after = NULL, *log = NULL;
	g_autofree char *want_main = NULL, *want_log = NULL;
	struct netconf cfg;
	void *saved = NULL;

	(void)data;
	static_cfg(&cfg);
	write_text(f->interfaces, main_before);
	g_assert_cmpint(g_chmod(f->interfaces, 0640), ==, 0);
	write_text(cloud, cloud_before);

	g_assert_cmpint(netconf_backend_ifupdown.manages(&f->env, &cfg.target), ==, 1);
	g_assert_cmpint(netconf_backend_ifupdown.save(&f->env, &cfg.target, &saved), ==, 0);
	g_assert_cmpint(netconf_backend_ifupdown.apply(&f->env, &cfg), ==, 0);

	ours = read_all(f->ours);
	g_assert_cmpstr(ours, ==, static_golden);
	main_after = read_all(f->interfaces);
	want_main =
	    g_strdup_printf("# interfaces(5) file used by ifup(8) and ifdown(8)\n"
			    "auto lo\n"
			    "iface lo inet loopback\n"
			    "\n"
			    "allow-hotplug eth0\n"
			    "#hvguest# iface eth0 inet static\n"
			    "#hvguest# \taddress 198.51.100.7/24\n"
			    "# a comment inside\n"
			    "#hvguest# \tgateway 198.51.100.1\n"
			    "\n"
			    "iface eth1 inet dhcp\n"
			    "iface eth0.5 inet dhcp\n"
			    "# Added by hv-kvpd: the network settings the Hyper-V host sets "
			    "(SET_IP_INFO)\n"
			    "source %s/hvguest-*\n",
			    f->dir);
	g_assert_cmpstr(main_after, ==, want_main);
	{
		struct stat st;

		/* The interfaces file keeps its mode. */
		g_assert_cmpint(stat(f->interfaces, &st), ==, 0);
		g_assert_cmpint(st.st_mode & 07777, ==, 0640);
	}
	cloud_after = read_all(cloud);
	g_assert_cmpstr(cloud_after, ==,
			"auto eth0\n#hvguest# iface eth0 inet6 auto\n#hvguest# \taccept_ra 2\n");
	/* Not up before: no ifdown; ifup with the private files. */
	log = read_all(f->log);
	want_log = g_strdup_printf("ifup -i %s --state-dir %s eth0\n", f->interfaces, f->state);
	g_assert_true(g_str_has_prefix(log, want_log));

	/* The rollback: every byte back, our file gone, the new definition taken down. */
	g_assert_cmpint(g_unlink(f->log), ==, 0);
	g_assert_cmpint(netconf_backend_ifupdown.restore(&f->env, &cfg.target, saved), ==, 0);
	netconf_backend_ifupdown.free_saved(saved);
	g_free(main_after);
	main_after = read_all(f->interfaces);
	g_assert_cmpstr(main_after, ==, main_before);
	g_free(cloud_after);
	cloud_after = read_all(cloud);
	g_assert_cmpstr(cloud_after, ==, cloud_before);
	g_assert_false(g_file_test(f->ours, G_FILE_TEST_EXISTS));
	g_free(log);
	log = read_all(f->log);
	g_free(want_log);
	/* The ifdown --force saw the new file; it was not up before, so no ifup. */
	want_log = g_strdup_printf("ifdown --force -i %s --state-dir %s eth0\n  | # Written by",
				   f->interfaces, f->state);
	g_assert_true(g_str_has_prefix(log, want_log));
	g_assert_null(strstr(log, "ifup "));
}

static void test_replace_takes_old_down_first(struct fixture *f, gconstpointer data)
{
	g_autofree char *state = g_build_filename(f->state, "ifstate.eth0", NULL);
	g_autofree char *log = NULL, *ours = NULL;
	struct netconf cfg;
	void *saved = NULL;
	const char *down, *up, *old, *new;

	(void)data;
	write_text(f->interfaces, "source-directory interfaces.d\n");
	static_cfg(&cfg);
	g_assert_cmpint(netconf_backend_ifupdown.apply(&f->env, &cfg), ==, 0);
	/* A relative source-directory covers our file: the main file is unchanged. */
	g_free(ours);
	ours = read_all(f->interfaces);
	g_assert_cmpstr(ours, ==, "source-directory interfaces.d\n");
	write_text(state, "eth0\n");
	g_assert_cmpint(g_unlink(f->log), ==, 0);

	netconf_cfg_init(&cfg, "eth0", 2, mac);
	netconf_cfg_addr(&cfg, "203.0.113.5", 28);
	g_assert_cmpint(netconf_backend_ifupdown.manages(&f->env, &cfg.target), ==, 1);
	g_assert_cmpint(netconf_backend_ifupdown.save(&f->env, &cfg.target, &saved), ==, 0);
	g_assert_cmpint(netconf_backend_ifupdown.apply(&f->env, &cfg), ==, 0);
	log = read_all(f->log);
	/* ifdown ran first and saw the OLD stanzas; ifup then saw the new ones. */
	down = strstr(log, "ifdown -i ");
	up = strstr(log, "ifup -i ");
	old = strstr(log, "address 192.0.2.10/24");
	new = strstr(log, "address 203.0.113.5/28");
	g_assert_nonnull(down);
	g_assert_nonnull(up);
	g_assert_nonnull(old);
	g_assert_nonnull(new);
	g_assert_true(down < old && old < up && up < new);
	g_assert_null(strstr(up, "192.0.2.10"));
	g_free(ours);
	ours = read_all(f->ours);
	g_assert_nonnull(strstr(ours, "iface eth0 inet static\n\taddress 203.0.113.5/28\n"
				      "iface eth0 inet6 auto\n"));

	/* Rollback while it was up: the old definition comes back and is brought up again. */
	g_assert_cmpint(g_unlink(f->log), ==, 0);
	g_assert_cmpint(netconf_backend_ifupdown.restore(&f->env, &cfg.target, saved), ==, 0);
	netconf_backend_ifupdown.free_saved(saved);
	g_free(log);
	log = read_all(f->log);
	up = strstr(log, "ifup -i ");
	g_assert_nonnull(up);
	g_assert_true(g_str_has_prefix(log, "ifdown --force"));
	g_assert_nonnull(strstr(up, "address 192.0.2.10/24"));
	g_free(ours);
	ours = read_all(f->ours);
	g_assert_cmpstr(ours, ==, static_golden);
}

static void test_dhcp_golden(struct fixture *f, gconstpointer data)
{
	g_autofree char *ours = NULL, *main_after = NULL;
	const struct dhcp_source src = {.root = f->root};
	enum dhcp_origin origin = DHCP_ORIGIN_NONE;
	struct netconf cfg;

	(void)data;
	netconf_cfg_init(&cfg, "eth0", 2, mac);
	netconf_cfg_dhcp(&cfg);
	netconf_cfg_dns(&cfg, "192.0.2.53");
	/* A gateway of a family configured automatically is ignored (with a log line). */
	netconf_cfg_gateway(&cfg, "192.0.2.1");
	write_text(f->interfaces, "iface eth0 inet static\n\taddress 198.51.100.7/24\n");
	g_assert_false(dhcp_enabled_for_link(&src, 2, "eth0", &origin));
	g_assert_cmpint(origin, ==, DHCP_ORIGIN_IFUPDOWN);

	g_assert_cmpint(netconf_backend_ifupdown.apply(&f->env, &cfg), ==, 0);
	ours = read_all(f->ours);
	g_assert_cmpstr(ours, ==,
			"# Written by hv-kvpd: the network settings the Hyper-V host set for eth0 "
			"(00:15:5D:AA:BB:01).\n"
			"# The host's next request replaces this file.\n"
			"auto eth0\n"
			"iface eth0 inet dhcp\n"
			"\tdns-nameservers 192.0.2.53\n"
			"iface eth0 inet6 auto\n");
	main_after = read_all(f->interfaces);
	g_assert_true(g_str_has_prefix(main_after, "#hvguest# iface eth0 inet static\n"
						   "#hvguest# \taddress 198.51.100.7/24\n"));
	/* GET_IP_INFO's DHCP flag reads the files we wrote. */
	g_assert_true(dhcp_enabled_for_link(&src, 2, "eth0", &origin));
	g_assert_cmpint(origin, ==, DHCP_ORIGIN_IFUPDOWN);
}

static void test_manages(struct fixture *f, gconstpointer data)
{
	g_autofree char *state = g_build_filename(f->state, "ifstate.eth0", NULL);
	struct netconf_env env = f->env;
	struct netconf cfg;

	(void)data;
	netconf_cfg_init(&cfg, "eth0", 2, mac);
	/* Installed, but eth0 defined nowhere and not up. */
	write_text(f->interfaces, "iface eth1 inet dhcp\niface eth00 inet dhcp\n");
	g_assert_cmpint(netconf_backend_ifupdown.manages(&env, &cfg.target), ==, 0);
	/* Up according to ifupdown's state. */
	write_text(state, "eth0\n");
	g_assert_cmpint(netconf_backend_ifupdown.manages(&env, &cfg.target), ==, 1);
	g_assert_cmpint(g_unlink(state), ==, 0);
	/* Defined in interfaces.d. */
	write_text(f->ours, "iface eth0 inet dhcp\n");
	g_assert_cmpint(netconf_backend_ifupdown.manages(&env, &cfg.target), ==, 1);
	/* ifup not installed. */
	env.ifup_path = "/nonexistent/ifup";
	g_assert_cmpint(netconf_backend_ifupdown.manages(&env, &cfg.target), ==, 0);
}

static void test_refusals(struct fixture *f, gconstpointer data)
{
	g_autofree char *failing = NULL, *main_after = NULL;
	g_autofree char *state = g_build_filename(f->state, "ifstate.eth0", NULL);
	struct netconf_env env = f->env;
	void *saved = NULL;
	struct netconf cfg;

	(void)data;
	write_text(f->interfaces, "source /nowhere/*\n");
	/* Two IPv4 gateways, one IPv4 address: nothing is written. */
	netconf_cfg_init(&cfg, "eth0", 2, mac);
	netconf_cfg_addr(&cfg, "192.0.2.10", 24);
	netconf_cfg_gateway(&cfg, "192.0.2.1");
	netconf_cfg_gateway(&cfg, "192.0.2.2");
	write_text(state, "eth0\n");
	g_assert_cmpint(netconf_backend_ifupdown.save(&env, &cfg.target, &saved), ==, 0);
	g_assert_cmpint(netconf_backend_ifupdown.apply(&env, &cfg), ==, -EINVAL);
	g_assert_false(g_file_test(f->ours, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(f->log, G_FILE_TEST_EXISTS));
	main_after = read_all(f->interfaces);
	g_assert_cmpstr(main_after, ==, "source /nowhere/*\n");
	/* Nothing was changed: the rollback does not bounce the interface. */
	g_assert_cmpint(netconf_backend_ifupdown.restore(&env, &cfg.target, saved), ==, 0);
	netconf_backend_ifupdown.free_saved(saved);
	g_assert_false(g_file_test(f->log, G_FILE_TEST_EXISTS));
	g_assert_cmpint(g_unlink(state), ==, 0);

	/* A failing ifup is a failure of apply(). */
	cfg.n_gateways = 1;
	failing = fake_tool(f, "ifup-failing", 1);
	env.ifup_path = failing;
	g_assert_cmpint(netconf_backend_ifupdown.apply(&env, &cfg), ==, -EIO);
	g_assert_true(g_file_test(f->ours, G_FILE_TEST_EXISTS));
	/* A hung ifup: -ETIME at the deadline. */
	write_text(failing, "#!/bin/sh\nexec sleep 30\n");
	g_assert_cmpint(g_chmod(failing, 0755), ==, 0);
	env.deadline_usec = now_usec() + 300 * 1000;
	g_assert_cmpint(netconf_backend_ifupdown.apply(&env, &cfg), ==, -ETIME);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, fixture_set_up, fn, fixture_tear_down)
	ADD("/netconf/ifupdown/static-golden", test_static_golden);
	ADD("/netconf/ifupdown/replace-takes-old-down-first", test_replace_takes_old_down_first);
	ADD("/netconf/ifupdown/dhcp-golden", test_dhcp_golden);
	ADD("/netconf/ifupdown/manages", test_manages);
	ADD("/netconf/ifupdown/refusals", test_refusals);
#undef ADD
	return g_test_run();
}
