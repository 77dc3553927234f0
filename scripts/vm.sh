#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots Debian's kernel under qemu (software emulation) with a busybox
# initramfs holding the files of a job folder under /hmap, runs its job.sh,
# and checks the outcome.
#
#   vm.sh [options] NAME JOBDIR
#     --smp N          vCPUs (default 2)
#     --icount         deterministic instruction-counting clock (forces -smp 1)
#     --timeout S      seconds before the VM is declared hung (default 600)
#     --kernel PATH    bzImage to boot (default /boot/vmlinuz-$KVER)
#     --interactive    console on this terminal, no log checks
#     --append ARGS    more kernel command line (e.g. rcu_nocbs=0-3)
#     --panic-dump F   on a kernel panic, save guest RAM to F (raw, from
#                      physical address 0) before stopping the VM; the guest
#                      then waits at a panic (panic=0) instead of rebooting
#
# Writes $BUILD/vm/NAME/{console.log,results.log}. Exits non-zero if the VM
# did not finish its job and power off in time, or if the kernel log shows a
# BUG, WARNING, Oops, lockdep/RCU/KASAN/kmemleak report or similar.
set -euo pipefail

BUILD=${BUILD:-$(pwd)/build}
smp=2 icount=0 timeout_s=600 kernel="" interactive=0 mem=1024 dump="" extra=""
while [ $# -gt 0 ]; do
	case "$1" in
	--smp) smp=$2; shift 2 ;;
	--icount) icount=1; smp=1; shift ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--interactive) interactive=1; shift ;;
	--panic-dump) dump=$2; shift 2 ;;
	--append) extra=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || { echo "usage: vm.sh [options] NAME JOBDIR" >&2; exit 2; }
name=$1 jobdir=$2
# An empty JOBDIR would copy the host's whole root file system below.
[ -n "$name" ] && [ -f "$jobdir/job.sh" ] || { echo "vm: no job.sh in '$jobdir'" >&2; exit 2; }
if [ -z "$kernel" ]; then
	: "${KVER:?KVER not set}"
	kernel=/boot/vmlinuz-$KVER
fi
[ -r "$kernel" ] || { echo "vm: no kernel at $kernel" >&2; exit 1; }

here=$(cd "$(dirname "$0")/.." && pwd)
out=$BUILD/vm/$name
root=$out/root
rm -rf "$out"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,etc,hmap}

cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
done
install -m 0755 "$here/selftests/vm/init" "$root/init"
printf 'root:x:0:0:root:/root:/bin/sh\nhmapuser:x:1000:1000::/tmp:/bin/sh\nhmapother:x:1001:1001::/tmp:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nhmapuser:x:1000:\nhmapother:x:1001:\n' >"$root/etc/group"
cp -a "$jobdir"/. "$root/hmap/"
[ $interactive -eq 1 ] && touch "$root/hmap/.interactive"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out/initramfs.gz"

qemu=(qemu-system-x86_64 -M q35 -cpu max -smp "$smp" -m "$mem"
      -no-reboot -kernel "$kernel" -initrd "$out/initramfs.gz")
append="console=ttyS0 panic=-1 oops=panic${extra:+ $extra}"
[ $icount -eq 1 ] && qemu+=(-icount shift=0,align=off,sleep=off)

if [ $interactive -eq 1 ]; then
	exec "${qemu[@]}" -nographic -append "$append"
fi

qemu+=(-display none -serial "file:$out/console.log" -serial "file:$out/results.log")
if [ -z "$dump" ]; then
	qemu+=(-monitor none -append "$append loglevel=7")
else
	# A monitor on two FIFOs (qemu opens them read-write: no blocking),
	# and a watcher that saves RAM once the panic message is complete.
	rm -f "$dump"
	mkfifo "$out/mon.in" "$out/mon.out"
	qemu+=(-monitor "pipe:$out/mon" -append "$append loglevel=7 panic=0")
	(
		while [ ! -s "$out/console.log" ] ||
		      ! grep -q -- '---\[ end Kernel panic' "$out/console.log"; do
			sleep 1
		done
		# Quoted: the monitor would parse "SIZE /path" as a division.
		# It runs one command at a time: quit comes after the save.
		printf 'pmemsave 0 %#x "%s"\nquit\n' $((mem << 20)) "$dump" >"$out/mon.in"
	) &
	watcher=$!
	cat "$out/mon.out" >"$out/monitor.log" 2>/dev/null &
	monreader=$!
fi
set +e
timeout --foreground -k 10 "$timeout_s" "${qemu[@]}" </dev/null
qrc=$?
set -e
if [ -n "$dump" ]; then
	kill "$watcher" "$monreader" 2>/dev/null || true
	wait "$watcher" "$monreader" 2>/dev/null || true
	[ -s "$dump" ] && echo "vm[$name]: kernel panic: guest RAM saved to $dump" >&2
fi

fail=0
if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
	echo "vm[$name]: FAIL: VM did not power off within ${timeout_s}s" >&2
	fail=1
elif [ $qrc -ne 0 ]; then
	echo "vm[$name]: FAIL: qemu exited with $qrc" >&2
	fail=1
fi
if ! grep -q '^HMAP-VM-DONE' "$out/results.log" 2>/dev/null; then
	echo "vm[$name]: FAIL: the job did not finish (no HMAP-VM-DONE)" >&2
	fail=1
fi
splat='BUG:|WARNING:|Oops|suspected memory leak|cut here|Call Trace|general protection|Kernel panic|KASAN|UBSAN|unreferenced object|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|DEBUG_LOCKS_WARN_ON|lockdep is turned off|sleeping function called|scheduling while atomic|rcu_.*stall|INFO: task .* blocked|refcount_t:|list_add corruption|list_del corruption'
if grep -Eq "$splat" "$out/console.log"; then
	echo "vm[$name]: FAIL: kernel report in the guest log:" >&2
	grep -En "$splat" "$out/console.log" | head -20 >&2
	fail=1
fi
if [ $fail -ne 0 ]; then
	echo "----- tail of $out/console.log -----" >&2
	tail -n 60 "$out/console.log" >&2 || true
	echo "----- tail of $out/results.log -----" >&2
	tail -n 30 "$out/results.log" >&2 || true
fi
exit $fail
