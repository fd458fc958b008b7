/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "kvpd.h"

int main(int argc, char **argv)
{
	return hvd_main(&kvpd_service, argc, argv);
}
