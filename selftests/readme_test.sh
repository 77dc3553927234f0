#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM: replays the README's transcripts (extracted to /hmap/readme by
# scripts/readme-extract.sh). "alice$ CMD" runs CMD as uid 1000, "bob$ CMD"
# as uid 1001, "# CMD" as root; the lines after a command are its expected
# output, stdout and stderr together. Each command is one test.
. /hmap/tests/ktap.sh
cd /hmap/readme || exit 1

uid_of()
{
	case "$1" in
	alice) echo 1000 ;;
	bob) echo 1001 ;;
	*) echo 0 ;;
	esac
}

# Splits the transcripts into numbered command and expected-output files.
n=0
for t in *.txt; do
	while IFS= read -r line; do
		case "$line" in
		"alice\$ "*|"bob\$ "*|"# "*)
			n=$((n + 1))
			who=${line%%[\$#] *}
			[ -n "$who" ] || who=root
			echo "$(uid_of "$who")" >"/tmp/rt.$n.uid"
			echo "${line#*[\$#] }" >"/tmp/rt.$n.cmd"
			echo "$t" >"/tmp/rt.$n.src"
			: >"/tmp/rt.$n.want"
			;;
		*)
			[ $n -gt 0 ] && echo "$line" >>"/tmp/rt.$n.want"
			;;
		esac
	done <"$t"
done

chmod 0666 /dev/hmap
ktap_plan $n
i=1
while [ $i -le $n ]; do
	uid=$(cat /tmp/rt.$i.uid)
	cmd=$(cat /tmp/rt.$i.cmd)
	if [ "$uid" = 0 ]; then
		sh -c "$cmd" >/tmp/rt.$i.got 2>&1
	else
		runas "$uid" "$uid" sh -c "$cmd" >/tmp/rt.$i.got 2>&1
	fi
	if ! cmp -s /tmp/rt.$i.want /tmp/rt.$i.got; then
		echo "# $(cat /tmp/rt.$i.src): $cmd"
		echo "# expected:"
		sed 's/^/#   /' /tmp/rt.$i.want
		echo "# got:"
		sed 's/^/#   /' /tmp/rt.$i.got
	fi
	ktap_check "$(cat /tmp/rt.$i.src): $cmd" cmp -s /tmp/rt.$i.want /tmp/rt.$i.got
	i=$((i + 1))
done
chmod 0600 /dev/hmap
ktap_totals
