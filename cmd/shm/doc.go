// Command shm inspects and uses POSIX shared memory on this host, with
// the github.com/shmkit/shm library.
//
// Usage:
//
//	shm ls [--json]                                  list the named objects on this host
//	shm stat [--json] NAME                           describe one named object
//	shm create --size SIZE [--mode MODE] NAME        create a named object (never replaces one)
//	shm rm NAME...                                   remove named objects
//	shm cat [--foreign] NAME                         copy an object's bytes to stdout
//	shm write [--grow] [--foreign] NAME              copy stdin into an object from offset 0
//	shm touch [--foreign] NAME...                    set access and modification times to now
//	shm keepalive [--every DUR] [--foreign] NAME...  keep objects safe from cleaners until interrupted
//	shm doctor [--json]                              find what would delete or break shared memory
//	shm send [--raw] [--count N] [--timeout DUR] [--size SIZE] [--foreign] NAME
//	                                                 send stdin as messages into a ring in an object
//	shm recv [--raw] [--count N] [--timeout DUR] [--size SIZE] [--foreign] NAME
//	                                                 print the messages of a ring in an object
//	shm exec [--size SIZE] [--name NAME] -- CMD [ARGS...]
//	                                                 run CMD with a fresh anonymous object
//	shm demo                                         show shm working end to end on this host
//	shm bench [--time DUR] [--large SIZE] [--rounds N] [--only GROUPS] [--json]
//	                                                 measure shm against its peers on this host
//	shm version                                      print the versions of shm and Go
//	shm help [COMMAND]                               print the usage of shm or of COMMAND
//
// Every command takes -h or --help (usage to stdout, exit status 0). Flags
// take one or two dashes and may follow the names, except for exec, whose
// flags end at the command. shm with no arguments prints its usage to
// stderr and exits with status 2, as does any command line that makes no
// sense. A failing command prints "shm: " and the error, naming the object
// and the cause, to stderr and exits with status 1. Nothing is created or
// removed unless a command says so.
//
// # Names
//
// NAME is an shm_open name. A name of one '/' and 1 to 30 bytes of
// A-Z a-z 0-9 . _ - means the same object on every OS; other names follow
// this OS's rules, and create notes on stderr that such a name is not
// portable. An existing object owned by another user is refused by cat,
// write, touch and keepalive unless --foreign is given, so that nobody can
// plant an object for you (OpenBSD refuses it always).
//
// # Sizes
//
// SIZE is a whole number of bytes, optionally followed by a unit, all
// powers of 1024: K, M, G, T or P in either case, or KiB, MiB, GiB, TiB or
// PiB (B alone means bytes). 4096, 64KiB, 64k, 1M and 1GiB are sizes;
// decimal-looking units such as MB or kB are refused as ambiguous, and so
// are fractions, signs, spaces and sizes over 8 EiB - 1. Sizes are shown
// to people as "64.0 KiB".
//
// # shm exec and other languages
//
// shm exec creates an anonymous object (1 MiB unless --size says
// otherwise) and runs CMD with it. A Go program finds it with
// shm.Inherited(NAME); NAME is "shm" unless --name says otherwise. Any
// other program reads the environment variable SHM_FD_<NAME>
// (SHM_FD_shm by default): a decimal descriptor number (3 for the first
// inherited descriptor) of an ordinary shared-memory descriptor, to fstat
// for the size and mmap with MAP_SHARED. For example, in C:
//
//	int fd = atoi(getenv("SHM_FD_shm"));
//	struct stat st; fstat(fd, &st);
//	char *p = mmap(NULL, st.st_size, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0);
//
// shm exec exits with CMD's status (128+N if a signal N killed it, 127
// if CMD was not found, 126 if it could not be run).
//
// # Keep-alive
//
// shm keepalive touches each object at once and every DUR (default 1h),
// logging "TIME touched NAME" lines, and holds a shared flock on it. When
// a name no longer leads to the object it opened (removed or replaced) it
// says so, naming the object, and exits with status 1. SIGINT and SIGTERM
// stop it cleanly with status 0.
//
// # Rings
//
// shm send and shm recv use a shm.Ring that fills the named object (at
// offset 0, over the whole object), so that a shell script and a Go
// program can exchange messages: send sends one message per line of stdin
// (or per read with --raw), recv prints one per line (or as they are with
// --raw) until every sender has closed its side. The one that finds no
// object creates it (--size, default 1 MiB + 4 KiB: a 1 MiB ring) and
// says so on stderr with the ring's capacity. An object holding anything
// but a ring or zeros is refused. --count stops after N messages;
// --timeout gives up (exit status 1) when no message, or no room, comes
// for DUR. shm stat shows a ring's capacity, fill, live senders and
// receiver when the object holds one. A Go program reaches the same ring
// with m.Ring(0, m.Len()) on a mapping of the whole object.
//
// # Doctor
//
// shm doctor runs the host checks of package
// github.com/shmkit/shm/doctor (and reports the SHMDEBUG settings in
// force) and prints aligned columns
// STATUS ID SUMMARY, each finding followed by its meaning and, when
// something is wrong, its remedy, indented. The exit status is 1 when a
// check failed.
//
// # JSON
//
// With --json, output is one indented JSON value whose field names are
// stable; sizes are in bytes, times RFC 3339 in UTC, ages in seconds.
//
// shm stat --json prints one object, and shm ls --json prints
// {"os", "dir", "risk_source", "objects": [object...]}, where "os" names
// the rules the names follow ("linux", "openbsd", ...), "dir" is the
// directory listed ("" for FreeBSD's kernel objects) and "risk_source"
// says where the risk column comes from. An object is:
//
//	name          the shm_open name, "" on OpenBSD (files are named by a hash)
//	hash          OpenBSD: the SHA-256 hex of the name that names the file; else ""
//	kind          "object", or "semaphore" (glibc sem.NAME, OpenBSD .sem)
//	path          the file, or for a kernel object its name
//	size          bytes
//	uid, gid      owner; -1 when unknown
//	owner         the owner's user name, "" when unknown
//	mode          permission bits as an octal string, "0600"
//	atime, mtime, ctime                        last access, modification, change; null when unknown
//	access_age_s, modify_age_s, change_age_s   seconds since then; null when unknown
//	risk          "ok", "-" (no cleaner known), or why a cleaner would delete it
//	ring          shm stat only, when the object holds a ring: {"capacity", "max_message",
//	              "used" (bytes), "senders" (live), "receiver" (true when live), "lost"}
//
// shm doctor --json prints {"os", "worst", "findings": [{"id", "status",
// "summary", "meaning", "remedy"}]}; status is "ok", "warn", "fail" or
// "skip", and remedy is left out when there is none.
//
// # Listing
//
// Linux lists /dev/shm (skipping what is not a regular file), OpenBSD
// /tmp/<sha256>.shm and .sem, NetBSD /var/shm/.shmobj_NAME, DragonFly
// /var/run/shm, illumos and Solaris /tmp/.SHMDNAME, FreeBSD the
// kern.ipc.posix_shm_list sysctl. darwin offers no way to list its
// objects, and shm ls says so.
package main
