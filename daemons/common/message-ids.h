/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MESSAGE_ID= values of the key events, one place for all daemons. Each is a stable 128-bit
 * id (made once with `systemd-id128 new`; never change or reuse one), so that
 * `journalctl MESSAGE_ID=...` and monitoring find an event whatever its text says. The
 * records' own fields all start with HVGUEST_ (see the daemons' man pages).
 */
#ifndef HVD_MESSAGE_IDS_H
#define HVD_MESSAGE_IDS_H

/* hv-vssd: a backup (FREEZE .. THAW, or its failure) is over; HVGUEST_VSS_RESULT= says how. */
#define HVGUEST_MESSAGE_BACKUP_DONE "MESSAGE_ID=ef1d6c2595c940929c0e5797feacdccb"
/* hv-vssd: the planned file systems are frozen. */
#define HVGUEST_MESSAGE_FROZEN "MESSAGE_ID=47d0403cd60149f1b9ec2cf57f40b581"
/* hv-vssd: what was frozen is thawed again. */
#define HVGUEST_MESSAGE_THAWED "MESSAGE_ID=9d79bf5462f24d37ba62ea73e695629d"
/* hv-fcopyd: one copy is over; HVGUEST_FCOPY_RESULT= says how. */
#define HVGUEST_MESSAGE_COPY_DONE "MESSAGE_ID=311fd01584f0476895e91b2a46d5e6b7"
/* any daemon: the host turned the service off (Disable-VMIntegrationService). */
#define HVGUEST_MESSAGE_HOST_DISABLED "MESSAGE_ID=94c7edebde7845668f3afacb7728e8ef"

#endif
