# SPDX-License-Identifier: LGPL-2.1-or-later
TESTS += tests/unit/test-abi.sh
dist_check_SCRIPTS += tests/unit/test-abi.sh
