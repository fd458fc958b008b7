# SPDX-License-Identifier: GPL-2.0-or-later
# shared: header-only helpers below the daemons, the tools and the tests (kmod's shared/ is
# the model). Never installed; the public library may use them only in its .c files.

noinst_HEADERS += shared/macro.h shared/strv.h shared/time-util.h
