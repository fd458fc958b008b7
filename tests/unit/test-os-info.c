/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for the OS identity the KVP daemon reports (daemons/kvp/os-info.c) and the
 * order and content of the intrinsic items.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "daemons/kvp/intrinsic.h"
#include "daemons/kvp/os-info.h"

static void lookup_ok(const char *text, const char *key, const char *want)
{
	char buf[256];
	int r = os_release_lookup(text, key, buf, sizeof(buf));

	g_assert_cmpint(r, ==, (int)strlen(want));
	g_assert_cmpstr(buf, ==, want);
}

static void test_lookup_quoting(void)
{
	const char *text = "# comment NAME=wrong\n"
			   "NAME=\"Debian GNU/Linux\"\n"
			   "VERSION_ID='12'\n"
			   "ID=debian\n"
			   "PRETTY_NAME=\"Say \\\"hi\\\" \\\\ now\"\n"
			   "  INDENTED=yes\n"
			   "SLOPPY=Fedora Linux  \r\n"
			   "EMPTY=\n"
			   "MIXED=a'b c'\"d\"\n";

	lookup_ok(text, "NAME", "Debian GNU/Linux");
	lookup_ok(text, "VERSION_ID", "12");
	lookup_ok(text, "ID", "debian");
	lookup_ok(text, "PRETTY_NAME", "Say \"hi\" \\ now");
	lookup_ok(text, "INDENTED", "yes");
	lookup_ok(text, "SLOPPY", "Fedora Linux");
	lookup_ok(text, "EMPTY", "");
	lookup_ok(text, "MIXED", "ab cd");
}

static void test_lookup_missing_and_prefix(void)
{
	char buf[16];

	/* A key is matched whole: NAME must not match NAMESPACE or PRETTY_NAME. */
	g_assert_cmpint(os_release_lookup("NAMESPACE=x\nPRETTY_NAME=y\n", "NAME", buf, sizeof(buf)),
			==, -ENOENT);
	g_assert_cmpint(os_release_lookup("", "NAME", buf, sizeof(buf)), ==, -ENOENT);
	g_assert_cmpint(os_release_lookup("#NAME=x\n", "NAME", buf, sizeof(buf)), ==, -ENOENT);
	/* No trailing newline. */
	lookup_ok("NAME=last", "NAME", "last");
}

static void test_lookup_bounds(void)
{
	char buf[4];

	g_assert_cmpint(os_release_lookup("K=abc\n", "K", buf, sizeof(buf)), ==, 3);
	g_assert_cmpstr(buf, ==, "abc");
	g_assert_cmpint(os_release_lookup("K=abcd\n", "K", buf, sizeof(buf)), ==, -ENOBUFS);
	g_assert_cmpint(os_release_lookup("K=a\n", "K", buf, 0), ==, -ENOBUFS);
}

/* Trailing unquoted blanks are not data: they never make a value that fits fail with
 * -ENOBUFS (found by fuzz-os-release, seed quoted-trailing-blanks). Quoted or escaped
 * trailing blanks are data and are kept. */
static void test_lookup_trailing_blanks(void)
{
	char buf[4];

	g_assert_cmpint(os_release_lookup("K=abc   \r\n", "K", buf, sizeof(buf)), ==, 3);
	g_assert_cmpstr(buf, ==, "abc");
	g_assert_cmpint(os_release_lookup("K=\"ab\"  \t\n", "K", buf, sizeof(buf)), ==, 2);
	g_assert_cmpstr(buf, ==, "ab");
	/* a held blank that turns out to be data must fit too */
	g_assert_cmpint(os_release_lookup("K=a c\n", "K", buf, sizeof(buf)), ==, 3);
	g_assert_cmpstr(buf, ==, "a c");
	g_assert_cmpint(os_release_lookup("K=ab  c\n", "K", buf, sizeof(buf)), ==, -ENOBUFS);
	g_assert_cmpint(os_release_lookup("K=abc d\n", "K", buf, sizeof(buf)), ==, -ENOBUFS);
	g_assert_cmpint(os_release_lookup("K=abc \"\"\n", "K", buf, sizeof(buf)), ==, 3);
	lookup_ok("K=\"sp \"\n", "K", "sp ");
	lookup_ok("K='sp\t'  \n", "K", "sp\t");
	lookup_ok("K=sp\\ \n", "K", "sp ");
	lookup_ok("K=a  b  \n", "K", "a  b");
	lookup_ok("K=   \n", "K", "");
	g_assert_cmpint(os_release_lookup("K=  \n", "K", buf, 1), ==, 0);
	g_assert_cmpstr(buf, ==, "");
}

static void xyz(const char *release, const char *want)
{
	char buf[64];

	kernel_version_xyz(release, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, want);
}

static void test_kernel_version_xyz(void)
{
	xyz("6.1.0-28-amd64", "6.1.0");
	xyz("6.10.14-200.fc40.x86_64", "6.10.14");
	xyz("6.12", "6.12.0");
	xyz("5.15.0-1057-azure", "5.15.0");
	xyz("6.8.0rc1", "6.8.0");
	xyz("", "0.0.0");
	xyz("garbage", "0.0.0");
	xyz("99999999999999999999999.1.2", "0.1.2");
}

static void test_os_info_load(void)
{
	g_autofree char *dir = g_dir_make_tmp("hvguest-osinfo-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "os-release", NULL);
	g_autofree char *missing = g_build_filename(dir, "missing", NULL);
	const char *paths[] = {missing, path, NULL};
	struct os_info info;
	struct utsname u;

	g_assert_nonnull(dir);
	g_assert_true(
	    g_file_set_contents(path, "NAME=\"Test OS\"\nVERSION_ID=\"42.1\"\n", -1, NULL));
	g_assert_cmpint(uname(&u), ==, 0);
	os_info_load(paths, &info);
	g_assert_cmpstr(info.name, ==, "Test OS");
	g_assert_cmpstr(info.version_id, ==, "42.1");
	g_assert_cmpstr(info.kernel_release, ==, u.release);
	g_assert_cmpstr(info.machine, ==, u.machine);
	g_assert_true(
	    g_regex_match_simple("^[0-9]+\\.[0-9]+\\.[0-9]+$", info.kernel_version, 0, 0));

	/* No os-release at all: the kernel's name, and an empty version. */
	const char *none[] = {missing, NULL};
	os_info_load(none, &info);
	g_assert_cmpstr(info.name, ==, u.sysname);
	g_assert_cmpstr(info.version_id, ==, "");
	g_unlink(path);
	g_rmdir(dir);
}

/* A FIFO (or device) at an os-release path is skipped at once, not waited for, and so is a
 * file over the 64 KiB bound; the next path answers. */
static void os_release_not_regular_body(void)
{
	g_autofree char *dir = g_dir_make_tmp("hvguest-osinfo-XXXXXX", NULL);
	g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
	g_autofree char *big = g_build_filename(dir, "big", NULL);
	g_autofree char *path = g_build_filename(dir, "os-release", NULL);
	g_autofree char *huge = g_strnfill(64 * 1024, '#');
	g_autofree char *big_text = g_strdup_printf("NAME=Big\n%s\n", huge);
	const char *paths[] = {fifo, "/dev/zero", big, path, NULL};
	struct os_info info;

	g_assert_nonnull(dir);
	g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
	g_assert_true(g_file_set_contents(big, big_text, -1, NULL));
	g_assert_true(g_file_set_contents(path, "NAME=Real\nVERSION_ID=7\n", -1, NULL));
	os_info_load(paths, &info);
	g_assert_cmpstr(info.name, ==, "Real");
	g_assert_cmpstr(info.version_id, ==, "7");
	g_unlink(fifo);
	g_unlink(big);
	g_unlink(path);
	g_rmdir(dir);
}

static void test_os_release_not_regular(void)
{
	if (g_test_subprocess()) {
		os_release_not_regular_body();
		return;
	}
	g_test_trap_subprocess(NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_test_trap_assert_passed();
}

static void test_intrinsic_order(void)
{
	static const char *const want[] = {
	    "FullyQualifiedDomainName",
	    "IntegrationServicesVersion",
	    "NetworkAddressIPv4",
	    "NetworkAddressIPv6",
	    "OSBuildNumber",
	    "OSName",
	    "OSMajorVersion",
	    "OSMinorVersion",
	    "OSVersion",
	    "ProcessorArchitecture",
	};
	const char *none[] = {"/nonexistent/os-release", NULL};
	struct intrinsic in;
	const char *key, *value;

	intrinsic_init(&in, none);
	g_assert_cmpint(intrinsic_get(&in, 1, &key, &value), ==, 0);
	g_assert_cmpstr(value, ==, "Unknown version");
	intrinsic_set_kernel_version(&in, "3.1");
	for (uint32_t i = 0; i < G_N_ELEMENTS(want); i++) {
		g_assert_cmpint(intrinsic_get(&in, i, &key, &value), ==, 0);
		g_assert_cmpstr(key, ==, want[i]);
		g_assert_nonnull(value);
	}
	g_assert_cmpint(intrinsic_get(&in, 1, &key, &value), ==, 0);
	g_assert_cmpstr(value, ==, "3.1");
	g_assert_cmpint(intrinsic_get(&in, 10, &key, &value), ==, -ENOENT);
	g_assert_cmpint(intrinsic_get(&in, UINT32_MAX, &key, &value), ==, -ENOENT);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/os-info/lookup/quoting", test_lookup_quoting);
	g_test_add_func("/os-info/lookup/missing-and-prefix", test_lookup_missing_and_prefix);
	g_test_add_func("/os-info/lookup/bounds", test_lookup_bounds);
	g_test_add_func("/os-info/lookup/trailing-blanks", test_lookup_trailing_blanks);
	g_test_add_func("/os-info/kernel-version-xyz", test_kernel_version_xyz);
	g_test_add_func("/os-info/load", test_os_info_load);
	g_test_add_func("/os-info/not-regular", test_os_release_not_regular);
	g_test_add_func("/intrinsic/order", test_intrinsic_order);
	return g_test_run();
}
