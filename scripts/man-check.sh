#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Checks the manual pages in man/, as KTAP:
#
#  - each page lints clean with every linter installed: mandoc -T lint
#    -W warning (Debian package mandoc), groff -man -ww -z (groff-base),
#    man --warnings -l (man-db, which must also render the page); at least
#    one of them must be there, else the check fails;
#  - hmap.4 has a subsection (.SS) for every HMAP_IOC_* command of
#    uapi/linux/hmap.h, an entry (.TP) for every module_param of kmod/*.c,
#    and names every errno the header names;
#  - libhmap.3 has an entry for every function userspace/include/libhmap.h
#    declares;
#  - hmapctl.8 has an entry for every verb of hmapctl's dispatch table and
#    usage text, and names every option its getopt_long() takes.
#
# Each list is extracted from the source at run time, and a list shorter
# than the source must hold fails the check, so that a changed source
# format cannot make it pass on nothing. Installs nothing.
#
#   scripts/man-check.sh     (from the repository root)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=selftests/ktap.sh
. selftests/ktap.sh

pages=(man/hmap.4 man/libhmap.3 man/hmapctl.8)
UAPI=uapi/linux/hmap.h
LIBH=userspace/include/libhmap.h
CTL=userspace/hmapctl/hmapctl.c

# A page without its comment lines: a name mentioned only in a comment
# does not count.
src()
{
	grep -v -e '^\.\\"' -e "^'\\\\\"" "$1"
}

# Prints "# " lines; true if there were none.
none()
{
	! sed 's/^/# /' | grep .
}

lint_mandoc()
{
	local out rc

	out=$(LC_ALL=C.UTF-8 mandoc -T lint -W warning "$1" 2>&1)
	rc=$?
	printf '%s' "$out" | none || return 1
	[ "$rc" -eq 0 ] || { echo "# mandoc exited $rc"; return 1; }
}

lint_groff()
{
	local out rc

	out=$(LC_ALL=C.UTF-8 groff -man -ww -z "$1" 2>&1)
	rc=$?
	printf '%s' "$out" | none || return 1
	[ "$rc" -eq 0 ] || { echo "# groff exited $rc"; return 1; }
}

# man-db: no warning, and the page renders with its NAME section.
lint_man()
{
	local err out rc

	err=$(mktemp) || return 1
	out=$(LC_ALL=C.UTF-8 MANPAGER=cat PAGER=cat MANWIDTH=80 man --warnings -l "$1" 2>"$err")
	rc=$?
	if ! none <"$err" || [ "$rc" -ne 0 ]; then
		echo "# man exited $rc"
		rm -f "$err"
		return 1
	fi
	rm -f "$err"
	printf '%s\n' "$out" | grep '^NAME' >/dev/null || { echo "# $1: renders no NAME section"; return 1; }
	# head stops reading early: printf's SIGPIPE is no failure.
	printf '%s\n' "$out" | sed -n '1,3s/^/# | /p'
}

# tagged PAGE WORD: WORD starts a tag line (.B, .BR, .I, .IR, .BI) right
# after .TP or .TQ, as each entry of a list does.
tagged()
{
	src "$1" | awk -v w="$2" '
		/^\.(TP|TQ)([ \t]|$)/ { tag = 1; next }
		tag && $1 ~ /^\.(B|BR|I|IR|BI)$/ {
			t = $2; gsub(/"/, "", t)
			if (t == w) found = 1
		}
		{ tag = 0 }
		END { exit !found }'
}

# subsection PAGE WORD: a .SS line whose first word is WORD.
subsection()
{
	src "$1" | awk -v w="$2" '
		$1 == ".SS" { t = $2; gsub(/"/, "", t); if (t == w) found = 1 }
		END { exit !found }'
}

# mentions PAGE WORD: WORD as a whole word anywhere outside comments.
mentions()
{
	src "$1" | grep -w -- "$2" >/dev/null
}

# check_all WHAT MIN PAGE TEST NAMES...: every name passes TEST on PAGE,
# and there are at least MIN names.
check_all()
{
	local what=$1 min=$2 page=$3 test=$4 n missing=
	shift 4

	n=$#
	echo "# $n $what: $*"
	if [ "$n" -lt "$min" ]; then
		echo "# only $n $what extracted, expected at least $min: has the source's format changed?"
		return 1
	fi
	for name in "$@"; do
		"$test" "$page" "$name" || missing="$missing $name"
	done
	[ -z "$missing" ] || { echo "# missing from $page:$missing"; return 1; }
}

# The commands of the uapi, from their #defines.
ioc_names()
{
	grep -oE '^#define[[:space:]]+HMAP_IOC_[A-Z0-9_]+' "$UAPI" | awk '{ print $2 }' | sort -u
}

# The first argument of module_param(), module_param_named() and the other
# module_param_*() macros: the parameter's name.
param_names()
{
	cat kmod/*.c | tr '\n' ' ' |
		grep -oE '\<module_param(_[a-z_]+)?[[:space:]]*\([[:space:]]*[A-Za-z0-9_]+' |
		sed -E 's/.*\([[:space:]]*//' | sort -u
}

# Every errno the header names (a word that is an errno of this system).
errno_names()
{
	local known

	known=$(LC_ALL=C perl -MErrno -e 'print "$_\n" for keys %!')
	grep -oE '\<E[A-Z0-9]{2,}\>' "$UAPI" | sort -u | grep -Fxf <(printf '%s\n' "$known")
}

# Functions libhmap.h declares: a line at column 0 that is not a comment
# or a preprocessor line, up to the first identifier followed by "(",
# whatever comes before it (a type, static inline, LIBHMAP_API, extern).
lib_functions()
{
	grep -E '^[A-Za-z_]' "$LIBH" |
		grep -vE '^(#|typedef|enum|union|struct [A-Za-z_]+[[:space:]]*\{)' |
		sed -nE 's/^[^(]*\<([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\(.*/\1/p' |
		grep -vxE 'sizeof|__attribute__|defined' | sort -u
}

# Verbs: the string of each { "verb", function } entry of the verbs[]
# table main() dispatches through, and each verb the usage text lists.
verbs_table()
{
	awk '/verbs\[\][[:space:]]*=[[:space:]]*\{/ { t = 1; next }
		t && /^\};/ { exit }
		t' "$CTL" | grep -oE '\{[[:space:]]*"[a-z][a-z0-9_-]*"[[:space:]]*,' |
		grep -oE '"[^"]+"' | tr -d '"'
}

verbs_usage()
{
	awk '/^"Verbs:/ { t = 1; next }
		t && /^"\\n"$/ { exit }
		t' "$CTL" | grep -oE '^"  [a-z][a-z0-9_-]*' | sed 's/^"  //'
}

verb_names()
{
	{ verbs_table; verbs_usage; } | sort -u
}

# Options: the long names of the option table and the letters of the
# getopt_long() string.
option_names()
{
	awk '/struct option [a-z_]+\[\][[:space:]]*=/ { t = 1; next }
		t && /\};/ { exit }
		t' "$CTL" | grep -oE '\{[[:space:]]*"[a-z][a-z0-9-]*"' | grep -oE '"[^"]+"' |
		tr -d '"' | sed 's/^/\\-\\-/'
	grep -oE 'getopt_long\([^"]*"[^"]*"' "$CTL" | sed -E 's/.*"([^"]*)"$/\1/' |
		tr -d '+:' | grep -o . | sed 's/^/\\-/'
}

# An option as the page writes it (\-\-json, \-j), not inside a longer word.
option_in()
{
	local opt=$2

	src "$1" | grep -E -- "$(printf '%s' "$opt" | sed 's/\\/\\\\/g')([^A-Za-z0-9-]|$)" >/dev/null
}

linters=()
command -v mandoc >/dev/null && linters+=(mandoc)
command -v groff >/dev/null && linters+=(groff)
command -v man >/dev/null && linters+=(man)

ktap_plan $((${#pages[@]} * (${#linters[@]} > 0 ? ${#linters[@]} : 1) + 7))
if [ ${#linters[@]} -eq 0 ]; then
	echo "# no man page linter: install mandoc (apt-get install mandoc), groff-base or man-db"
fi
echo "# linters: ${linters[*]:-none}"

for p in "${pages[@]}"; do
	if [ ! -f "$p" ]; then
		for l in "${linters[@]:-none}"; do
			ktap_check "$p: exists (for $l)" false
		done
		continue
	fi
	for l in "${linters[@]:-none}"; do
		case $l in
		mandoc) ktap_check "$p: mandoc -T lint -W warning: clean" lint_mandoc "$p" ;;
		groff) ktap_check "$p: groff -man -ww -z: clean" lint_groff "$p" ;;
		man) ktap_check "$p: man --warnings -l: clean, renders" lint_man "$p" ;;
		none) ktap_check "$p: a linter is installed (mandoc, groff or man)" false ;;
		esac
	done
done

# shellcheck disable=SC2046 # one word per name
ktap_check "hmap.4: a subsection for every HMAP_IOC_* of $UAPI" \
	check_all "commands" 20 man/hmap.4 subsection $(ioc_names)
# shellcheck disable=SC2046
ktap_check "hmap.4: an entry for every module_param of kmod/*.c" \
	check_all "module parameters" 1 man/hmap.4 tagged $(param_names)
# shellcheck disable=SC2046
ktap_check "hmap.4: every errno of $UAPI" \
	check_all "errnos" 10 man/hmap.4 mentions $(errno_names)
# shellcheck disable=SC2046
ktap_check "libhmap.3: an entry for every function of $LIBH" \
	check_all "functions" 20 man/libhmap.3 tagged $(lib_functions)
# shellcheck disable=SC2046
ktap_check "hmapctl.8: an entry for every verb of the dispatch table" \
	check_all "verbs (dispatch table)" 10 man/hmapctl.8 tagged $(verbs_table)
# shellcheck disable=SC2046
ktap_check "hmapctl.8: an entry for every verb of the usage text" \
	check_all "verbs (table and usage)" 10 man/hmapctl.8 tagged $(verb_names)
# shellcheck disable=SC2046
ktap_check "hmapctl.8: every option of getopt_long()" \
	check_all "options" 3 man/hmapctl.8 option_in $(option_names)
ktap_totals
