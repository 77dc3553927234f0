# SPDX-License-Identifier: GPL-2.0
# TAP helpers for shell test suites, in the kselftest output format, so that
# one parser (scripts/tap-sum.awk) counts every suite. POSIX sh.
KTAP_N=0
KTAP_PASS=0
KTAP_FAIL=0

ktap_plan()
{
	echo "TAP version 13"
	echo "1..$1"
}

# ktap_check DESCRIPTION COMMAND...: one test, passing when COMMAND succeeds.
ktap_check()
{
	ktap_desc=$1
	shift
	KTAP_N=$((KTAP_N + 1))
	if "$@"; then
		echo "ok $KTAP_N $ktap_desc"
		KTAP_PASS=$((KTAP_PASS + 1))
	else
		echo "not ok $KTAP_N $ktap_desc"
		KTAP_FAIL=$((KTAP_FAIL + 1))
	fi
}

ktap_totals()
{
	echo "# Totals: pass:$KTAP_PASS fail:$KTAP_FAIL xfail:0 xpass:0 skip:0 error:0"
	[ "$KTAP_FAIL" -eq 0 ]
}
