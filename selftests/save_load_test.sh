#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM: a module upgrade that keeps the maps. Three published maps,
# each with its own owner, group, mode, sizes, flags and entries, are saved
# with `hmapctl save --all`, unpublished, the module is unloaded and loaded
# again, and `hmapctl load --all` brings each one back as it was. rmmod
# refuses while any map lives, so this suite needs no other map alive: run
# it right after module_load.sh. It leaves the module as module_load.sh
# does (insmod with defaults, /dev/hmap mode 600) and no map behind.
. /hmap/tests/ktap.sh
ko=/hmap/hmap.ko
stats=/sys/kernel/debug/hmap/stats
dir=/tmp/hmap-reload

stat_of() { sed -n "s/^$1:[[:space:]]*//p" $stats; }

# The frees run a grace period after the last reference: give them a moment.
settled()
{
	i=0
	while [ $i -lt 50 ]; do
		[ "$(stat_of maps_freed)" = "$(stat_of maps_released)" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# Everything a save keeps of a map: settings, name, owner, group, mode, and
# the entries (sorted: a new map's iteration order is its own).
fields='name|published|key_size|value_size|max_entries|capacity_hint|count'
fields="$fields|pub_uid|pub_gid|pub_mode|prealloc|lru|ttl"
describe()
{
	hmapctl -j show name "$1" | tr ',' '\n' | grep -E "^\"($fields)\"" &&
		hmapctl dump name "$1" | sort
}

describe_all()
{
	for m in rl_a rl_b rl_c; do
		describe $m >"$dir/$1.$m" || return 1
	done
}

same()
{
	for m in rl_a rl_b rl_c; do
		cmp "$dir/before.$m" "$dir/after.$m" || return 1
	done
}

# rl_a: root's, 0600, 8/8. rl_b: made by uid 1000, 0640, 4/16, lru.
# rl_c: root's with group 1001, 0666, 16/8, prealloc, owner set by load.
make_maps()
{
	hmapctl create rl_a key 8 value 8 entries 100 capacity 64 mode 0600 &&
	hmapctl update name rl_a key u64 1 value u64 10 &&
	hmapctl update name rl_a key u64 2 value u64 20 &&
	chmod 0666 /dev/hmap &&
	runas 1000 1000 hmapctl create rl_b key 4 value 16 entries 50 mode 0640 lru &&
	runas 1000 1000 hmapctl update name rl_b key u32 7 value string seven &&
	chmod 0600 /dev/hmap &&
	hmapctl create rl_c key 16 value 8 entries 10 mode 0666 prealloc &&
	hmapctl update name rl_c key string c1 value u64 3 &&
	hmapctl save name rl_c "$dir/c.hmap" >/dev/null &&
	hmapctl unpublish rl_c &&
	hmapctl load "$dir/c.hmap" owner 0:1001 >/dev/null &&
	hmapctl -j show name rl_c | grep -q '"pub_uid":0,"pub_gid":1001,"pub_mode":"0666"'
}

only_ours() { settled && [ "$(stat_of maps_live)" = 3 ]; }
three_files() { [ "$(ls "$dir/save" | wc -l)" = 3 ]; }
unpublish_all() { hmapctl unpublish rl_a && hmapctl unpublish rl_b && hmapctl unpublish rl_c; }
none_live() { settled && [ "$(stat_of maps_live)" = 0 ]; }
mode_600() { [ "$(stat -c '%a' /dev/hmap)" = 600 ]; }

rm -rf "$dir"
mkdir -p "$dir"
ktap_plan 15
ktap_check "three maps with their owners, groups and modes" make_maps
ktap_check "no other map is alive (rmmod needs none)" only_ours
ktap_check "described" describe_all before
ktap_check "save --all" sh -c "hmapctl save --all '$dir/save' >'$dir/save.out'"
ktap_check "one file per map" three_files
ktap_check "unpublish all three" unpublish_all
ktap_check "every map freed" none_live
ktap_check "rmmod hmap" rmmod hmap
ktap_check "insmod the module again, with defaults" insmod $ko
ktap_check "/dev/hmap mode 600, as module_load.sh left it" mode_600
ktap_check "load --all" sh -c "hmapctl load --all '$dir/save' >'$dir/load.out'"
ktap_check "described again" describe_all after
ktap_check "names, owners, groups, modes, settings and entries as before" same
ktap_check "unpublish all three again" unpublish_all
ktap_check "no map left" none_live
sed 's/^/# /' "$dir/save.out" "$dir/load.out" 2>/dev/null
rm -rf "$dir"
ktap_totals
