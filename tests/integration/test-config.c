/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration: the three daemon binaries refuse an invalid hvguest.conf at load, through
 * `--dump-config -c FILE` (the same load a start and a reload do): exit status 1 and one
 * line "PROGRAM: FILE:LINE: [section] key: what is wrong" on stderr, nothing on stdout. A
 * valid file is dumped with exit status 0. Covers the checks beyond the type (fcopy's
 * file-mode, owner and group; absolute paths in lists; the device).
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "daemon.h"

static char *tmpdir;

struct run {
	int status;
	char *out, *err;
};

/* Runs PROGRAM --dump-config -c FILE with text as FILE. */
static struct run dump_config(const char *program, const char *text, char **ret_path)
{
	g_autofree char *path = g_build_filename(tmpdir, "hvguest.conf", NULL);
	g_autofree char *binary = test_build_path(program);
	const char *argv[] = {binary, "--dump-config", "-c", path, NULL};
	struct run r = {0};
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r.out,
				   &r.err, &r.status, &error));
	g_assert_no_error(error);
	*ret_path = g_steal_pointer(&path);
	return r;
}

static void run_clear(struct run *r)
{
	g_free(r->out);
	g_free(r->err);
}

/* text must be refused with exactly "NAME: PATH" + suffix. */
static void refused(const char *program, const char *text, const char *suffix)
{
	g_autofree char *path = NULL;
	g_autofree char *name = g_path_get_basename(program);
	struct run r = dump_config(program, text, &path);
	g_autofree char *want = g_strdup_printf("%s: %s%s\n", name, path, suffix);

	g_assert_true(WIFEXITED(r.status));
	g_assert_cmpint(WEXITSTATUS(r.status), ==, 1);
	g_assert_cmpstr(r.err, ==, want);
	g_assert_cmpstr(r.out, ==, "");
	run_clear(&r);
}

/* text must load; the dump must contain line. */
static void accepted(const char *program, const char *text, const char *line)
{
	g_autofree char *path = NULL;
	struct run r = dump_config(program, text, &path);

	if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
		g_test_message("stderr: %s", r.err);
	g_assert_true(WIFEXITED(r.status));
	g_assert_cmpint(WEXITSTATUS(r.status), ==, 0);
	g_assert_nonnull(strstr(r.out, line));
	run_clear(&r);
}

#define FCOPYD "daemons/fcopy/hv-fcopyd"
#define KVPD "daemons/kvp/hv-kvpd"
#define VSSD "daemons/vss/hv-vssd"

static void test_fcopy_modes(void)
{
	refused(FCOPYD, "[fcopy]\nfile-mode=4755\n",
		":2: [fcopy] file-mode: \"4755\" has set-uid, set-gid or sticky bits (07000); "
		"allow-special-modes=true allows them");
	refused(FCOPYD, "[fcopy]\n\ndirectory-mode=1777\n",
		":3: [fcopy] directory-mode: \"1777\" has set-uid, set-gid or sticky bits (07000); "
		"allow-special-modes=true allows them");
	refused(FCOPYD, "[fcopy]\nfile-mode=0888\n",
		":2: [fcopy] file-mode: \"0888\" is not an octal mode (0000..07777)");
	refused(FCOPYD, "[fcopy]\nfile-mode=17777\n",
		":2: [fcopy] file-mode: \"17777\" is not an octal mode (0000..07777)");
	refused(FCOPYD, "[fcopy]\nfile-mode=\n",
		":2: [fcopy] file-mode: \"\" is not an octal mode (0000..07777)");
	accepted(FCOPYD, "[fcopy]\nfile-mode=0600\n", "\nfile-mode=0600\n");
	/* asked for explicitly, whichever line comes first */
	accepted(FCOPYD, "[fcopy]\nfile-mode=4755\nallow-special-modes=true\n",
		 "\nfile-mode=4755\n");
	accepted(FCOPYD, "[fcopy]\nallow-special-modes=yes\ndirectory-mode=2775\n",
		 "\ndirectory-mode=2775\n");
}

static void test_fcopy_owner(void)
{
	refused(FCOPYD, "[fcopy]\nfile-owner=no-such-user-hvguest\n",
		":2: [fcopy] file-owner: \"no-such-user-hvguest\" is neither a known user nor a "
		"uid");
	refused(FCOPYD, "[fcopy]\nfile-group=no-such-group-hvguest\n",
		":2: [fcopy] file-group: \"no-such-group-hvguest\" is neither a known group nor a "
		"gid");
	refused(FCOPYD, "[fcopy]\nfile-owner=-1\n",
		":2: [fcopy] file-owner: \"-1\" is neither a known user nor a uid");
	accepted(FCOPYD, "[fcopy]\nfile-owner=1234\nfile-group=5678\n", "\nfile-owner=1234\n");
	accepted(FCOPYD, "[fcopy]\nfile-owner=root\nfile-group=0\n", "\nfile-group=0\n");
}

static void test_fcopy_roots(void)
{
	refused(FCOPYD, "[fcopy]\nallowed-roots=/srv/in;incoming\n",
		":2: [fcopy] allowed-roots: \"incoming\" is not an absolute path");
	refused(FCOPYD, "[fcopy]\nallowed-roots=/srv/in/../../etc\n",
		":2: [fcopy] allowed-roots: \"/srv/in/../../etc\" has a \"..\" component");
	accepted(FCOPYD, "[fcopy]\nallowed-roots=/srv/in;/var/lib/hyperv/incoming\n",
		 "\nallowed-roots=/srv/in;/var/lib/hyperv/incoming\n");
}

static void test_common_and_lists(void)
{
	refused(KVPD, "[kvp]\ndevice=hv_kvp\n",
		":2: [kvp] device: \"hv_kvp\" is neither an absolute path nor "
		"unix:/absolute-path");
	refused(VSSD, "[vss]\ndevice=unix:vss.sock\n",
		":2: [vss] device: \"unix:vss.sock\" is neither an absolute path nor "
		"unix:/absolute-path");
	refused(KVPD, "[kvp]\nos-release=os-release\n",
		":2: [kvp] os-release: \"os-release\" is not an absolute path");
	refused(VSSD, "[vss]\njournal-dirs=/var/log/journal;log\n",
		":2: [vss] journal-dirs: \"log\" is not an absolute path");
	refused(VSSD, "[vss]\nmax-frozen=2h\n", ":2: [vss] max-frozen: out of range (100ms..1h)");
	accepted(KVPD, "[kvp]\ndevice=unix:/run/kvp.sock\n", "\ndevice=unix:/run/kvp.sock\n");
}

/* SET_IP_INFO's keys: the script backend needs a script, which must be an absolute path;
 * the reply deadline stays below the kernel's 30 s. */
static void test_kvp_set_ip(void)
{
	refused(KVPD, "[kvp]\nset-ip-backend=script\n",
		":2: [kvp] set-ip-backend: \"script\" needs set-ifconfig-script=");
	refused(KVPD, "[kvp]\nset-ifconfig-script=hv_set_ifconfig\n",
		":2: [kvp] set-ifconfig-script: \"hv_set_ifconfig\" is not an absolute path");
	refused(KVPD, "[kvp]\nset-ip-timeout=26s\n",
		":2: [kvp] set-ip-timeout: out of range (100ms..25sec)");
	refused(KVPD, "[kvp]\nset-ip-backend=wicked\n",
		":2: [kvp] set-ip-backend: \"wicked\" is not one of "
		"auto|networkmanager|networkd|ifupdown|ifcfg|script");
	refused(KVPD, "[kvp]\nsysfs-net-dir=sys/class/net\n",
		":2: [kvp] sysfs-net-dir: \"sys/class/net\" is not an absolute path");
	accepted(KVPD,
		 "[kvp]\nset-ip-backend=script\nset-ifconfig-script=/usr/libexec/hv_set_ifconfig\n",
		 "\nset-ip-backend=script\n");
	accepted(KVPD, "[kvp]\n", "\nset-ip-timeout=20s\n");
}

int main(int argc, char **argv)
{
	int r;

	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("test-config-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);
	g_test_add_func("/config/fcopy-modes", test_fcopy_modes);
	g_test_add_func("/config/kvp-set-ip", test_kvp_set_ip);
	g_test_add_func("/config/fcopy-owner", test_fcopy_owner);
	g_test_add_func("/config/fcopy-roots", test_fcopy_roots);
	g_test_add_func("/config/common-and-lists", test_common_and_lists);
	r = g_test_run();
	g_autofree char *conf = g_build_filename(tmpdir, "hvguest.conf", NULL);
	g_unlink(conf);
	g_rmdir(tmpdir);
	g_free(tmpdir);
	return r;
}
