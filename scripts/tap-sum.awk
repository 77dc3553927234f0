# SPDX-License-Identifier: GPL-2.0
#
# Sums kselftest results over suites framed by "HMAP-SUITE name" and
# "HMAP-SUITE-END name rc=N" lines. A suite that printed no "# Totals:" line
# (it crashed or hung) or that exited non-zero without reporting a failure
# counts as one failure. Prints one line per suite, then "TOTAL pass fail skip".
function end_suite(rc) {
	if (!have_totals) {
		printf("suite %s: FAIL: no result (exit %s)\n", name, rc)
		fail++
	} else {
		if (rc != 0 && rc != 4 && sfail == 0) {
			printf("suite %s: FAIL: exit %s with no failure reported\n", name, rc)
			fail++
			sfail = 1
		}
		printf("suite %s: %d passed, %d failed, %d skipped\n", name, spass, sfail, sskip)
	}
	in_suite = 0
}
/^HMAP-SUITE / {
	if (in_suite)
		end_suite("none")
	name = $2; in_suite = 1; have_totals = 0; spass = sfail = sskip = 0
	next
}
/^HMAP-SUITE-END / {
	rc = $3; sub(/^rc=/, "", rc)
	if (in_suite)
		end_suite(rc)
	next
}
in_suite && /^# Totals: / {
	for (i = 3; i <= NF; i++) {
		split($i, kv, ":")
		if (kv[1] == "pass" || kv[1] == "xfail") { pass += kv[2]; spass += kv[2] }
		if (kv[1] == "fail" || kv[1] == "error" || kv[1] == "xpass") { fail += kv[2]; sfail += kv[2] }
		if (kv[1] == "skip") { skip += kv[2]; sskip += kv[2] }
	}
	have_totals = 1
	next
}
in_suite && /^not ok / { print "  " name ": " $0 }
END {
	if (in_suite)
		end_suite("none")
	printf("TOTAL %d %d %d\n", pass, fail, skip)
}
