// Package doctor finds what on a host would delete, break or starve
// shared-memory objects: cleaners (systemd-logind's RemoveIPC,
// systemd-tmpfiles aging, OpenBSD's daily(8) /tmp sweep), a small or
// missing /dev/shm, a missing NetBSD /var/shm, vm.memfd_noexec, and a low
// descriptor limit.
//
// Every check reads the host through an [Env], so the same code runs
// against the real host (Root "/") and against fixture trees in tests.
// Each check returns one [Finding] with a stable ID; a check that cannot
// run on this host says why with status [Skip] and never claims [OK].
//
// The parsers (systemd configuration files, tmpfiles.d lines, time spans,
// OpenBSD's daily script, fstab and mountinfo lines, login.defs) are
// exported so that they can be fuzzed and tested on their own.
package doctor
