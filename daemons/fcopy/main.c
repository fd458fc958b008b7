/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fcopyd.h"

int main(int argc, char **argv)
{
	return hvd_main(&fcopyd_service, argc, argv);
}
