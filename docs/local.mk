# SPDX-License-Identifier: GPL-2.0-or-later
EXTRA_DIST += docs/architecture.md
EXTRA_DIST += docs/protocol.md
