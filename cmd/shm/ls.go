package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/shmkit/shm"
)

// objectJSON is one object in the JSON of shm ls and shm stat. The field
// names are part of the command's interface (see doc.go).
type objectJSON struct {
	Name       string  `json:"name"`
	Hash       string  `json:"hash"`
	Kind       string  `json:"kind"`
	Path       string  `json:"path"`
	Size       int64   `json:"size"`
	UID        int     `json:"uid"`
	GID        int     `json:"gid"`
	Owner      string  `json:"owner"`
	Mode       string  `json:"mode"`
	Atime      *string `json:"atime"`
	Mtime      *string `json:"mtime"`
	Ctime      *string `json:"ctime"`
	AccessAgeS *int64  `json:"access_age_s"`
	ModifyAgeS *int64  `json:"modify_age_s"`
	ChangeAgeS *int64  `json:"change_age_s"`
	Risk       string  `json:"risk"`
	// Ring is set by shm stat when the object holds a ring.
	Ring *ringJSON `json:"ring,omitempty"`
}

// listJSON is the JSON of shm ls.
type listJSON struct {
	OS         string       `json:"os"`
	Dir        string       `json:"dir"`
	RiskSource string       `json:"risk_source"`
	Objects    []objectJSON `json:"objects"`
}

// owners caches user names by uid.
type owners map[int]string

func (o owners) name(uid int) string {
	if uid < 0 {
		return ""
	}
	if n, ok := o[uid]; ok {
		return n
	}
	n := ""
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		n = u.Username
	}
	o[uid] = n
	return n
}

// display returns the owner for a table: the user name, else the uid.
func (o owners) display(uid int) string {
	if uid < 0 {
		return "?"
	}
	if n := o.name(uid); n != "" {
		return n
	}
	return strconv.Itoa(uid)
}

func rfc3339(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func ageSeconds(now, t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	s := int64(now.Sub(t) / time.Second)
	return &s
}

func ageColumn(now, t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return formatAge(now.Sub(t))
}

func toJSON(info shm.ObjectInfo, own owners, j *judge, now time.Time) objectJSON {
	return objectJSON{
		Name: info.Name, Hash: info.Hash, Kind: info.Kind, Path: info.Path, Size: info.Size,
		UID: info.UID, GID: info.GID, Owner: own.name(info.UID), Mode: fmt.Sprintf("%04o", uint32(info.Mode.Perm())),
		Atime: rfc3339(info.Atime), Mtime: rfc3339(info.Mtime), Ctime: rfc3339(info.Ctime),
		AccessAgeS: ageSeconds(now, info.Atime), ModifyAgeS: ageSeconds(now, info.Mtime), ChangeAgeS: ageSeconds(now, info.Ctime),
		Risk: j.judge(info, now),
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

var cmdLs = &command{
	name:    "ls",
	args:    "[--json]",
	summary: "list the named objects on this host",
	help: `
List the named shared-memory objects on this host: name (on OpenBSD the
SHA-256 hash that names the file, as names cannot be recovered), kind
(object, or semaphore for glibc's sem.NAME and OpenBSD's .sem files), size,
owner, mode, time since last access and since last status change, and a
risk column: whether a known cleaner would delete the object now, for
example "atime 9d > daily's 7d", "ok" when none would, "-" when no cleaner
is known on this host.

Where objects live: Linux /dev/shm, OpenBSD /tmp/<sha256>.shm and .sem,
NetBSD /var/shm/.shmobj_NAME, DragonFly /var/run/shm, illumos and Solaris
/tmp/.SHMDNAME, FreeBSD the kern.ipc.posix_shm_list sysctl. darwin offers
no way to list its objects.

The risk comes from 'shm doctor' (its objects.atrisk finding) when the
doctor examined these objects, else from a built-in rule (OpenBSD:
daily(8) deletes /tmp files not accessed for 7 days).

With --json the output is one object: {"os": the rules the names follow,
"dir": the directory listed ("" for kernel objects), "risk_source": where
the risk column comes from, "objects": [...]}, each object as in
'shm stat --json'.`,
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		flags := c.flags()
		asJSON := flags.Bool("json", false, "print JSON")
		pos, err := c.parse(e, flags, args, true)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 0, 0, ""); err != nil {
			return err
		}
		l, err := shm.List()
		if err != nil {
			return err // "shm: list: ..." names the operation and the cause
		}
		j := newJudge(l.OS, l.Dir, doctorReport(ctx))
		now := e.now()
		own := owners{}
		if *asJSON {
			out := listJSON{OS: l.OS, Dir: l.Dir, RiskSource: j.source, Objects: []objectJSON{}}
			for _, info := range l.Objects {
				out.Objects = append(out.Objects, toJSON(info, own, j, now))
			}
			return writeJSON(e.stdout, out)
		}
		where := l.Dir
		if where == "" {
			where = l.OS + " kernel"
		}
		if len(l.Objects) == 0 {
			fmt.Fprintf(e.stdout, "no named objects in %s\n", where)
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		nameCol := "NAME"
		if l.OS == "openbsd" {
			nameCol = "HASH"
		}
		fmt.Fprintf(tw, "%s\tKIND\tSIZE\tOWNER\tMODE\tACCESSED\tCHANGED\tRISK\n", nameCol)
		for _, info := range l.Objects {
			name := quoteName(info.Name)
			if info.Name == "" {
				name = info.Hash
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%04o\t%s\t%s\t%s\n", name, info.Kind, formatSize(info.Size),
				own.display(info.UID), uint32(info.Mode.Perm()), ageColumn(now, info.Atime), ageColumn(now, info.Ctime),
				j.judge(info, now))
		}
		return tw.Flush()
	},
}

var cmdStat = &command{
	name:    "stat",
	args:    "[--json] NAME",
	summary: "describe one named object",
	help: `
Describe the named object NAME without opening it for use and without
changing its times: kind, path, size, owner, mode, last access,
modification and status change, and the risk that a known cleaner deletes
it (see 'shm ls --help').

With --json the output is one object with the fields name, hash (OpenBSD
only, else ""), kind ("object" or "semaphore"), path, size (bytes), uid,
gid (-1 when unknown), owner (user name, "" when unknown), mode (octal
string such as "0600"), atime, mtime, ctime (RFC 3339, UTC; null when
unknown), access_age_s, modify_age_s, change_age_s (seconds; null when
unknown) and risk.

When the object holds a ring at offset 0 (see 'shm send --help'), stat
also shows its capacity, the bytes in it, its live senders and whether a
live receiver is attached; with --json as the field "ring": {capacity,
max_message, used (bytes), senders, receiver (true or false), lost
(messages whose senders died before committing)}, absent otherwise. To
look, stat maps the start of an object of at least 4352 bytes, which on
Linux may set its access time (relatime: at most once a day).`,
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		flags := c.flags()
		asJSON := flags.Bool("json", false, "print JSON")
		pos, err := c.parse(e, flags, args, true)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 1, 1, "NAME"); err != nil {
			return err
		}
		info, err := shm.Stat(pos[0])
		if err != nil {
			return objErr("stat", pos[0], err)
		}
		now := e.now()
		rules := doctorOS(runtime.GOOS)
		if info.Hash != "" { // only the OpenBSD rules name files by hash
			rules = "openbsd"
		}
		j := newJudge(rules, filepath.Dir(info.Path), doctorReport(ctx))
		own := owners{}
		var ring *ringJSON
		if info.Kind == "object" {
			ring = ringStat(pos[0], info.Size)
		}
		if *asJSON {
			oj := toJSON(info, own, j, now)
			oj.Ring = ring
			return writeJSON(e.stdout, oj)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 1, ' ', 0)
		fmt.Fprintf(tw, "name:\t%s\n", quoteName(info.Name))
		if info.Hash != "" {
			fmt.Fprintf(tw, "hash:\t%s\n", info.Hash)
		}
		fmt.Fprintf(tw, "kind:\t%s\n", info.Kind)
		fmt.Fprintf(tw, "path:\t%s\n", quoteName(info.Path))
		fmt.Fprintf(tw, "size:\t%d (%s)\n", info.Size, formatSize(info.Size))
		fmt.Fprintf(tw, "owner:\t%s (uid %d, gid %d)\n", own.display(info.UID), info.UID, info.GID)
		fmt.Fprintf(tw, "mode:\t%04o\n", uint32(info.Mode.Perm()))
		for _, t := range []struct {
			label string
			t     time.Time
		}{{"accessed", info.Atime}, {"modified", info.Mtime}, {"changed", info.Ctime}} {
			if t.t.IsZero() {
				fmt.Fprintf(tw, "%s:\tunknown\n", t.label)
				continue
			}
			fmt.Fprintf(tw, "%s:\t%s (%s ago)\n", t.label, t.t.Format(time.RFC3339), formatAge(now.Sub(t.t)))
		}
		fmt.Fprintf(tw, "risk:\t%s\n", j.judge(info, now))
		if ring != nil {
			printRingStat(tw, ring)
		}
		return tw.Flush()
	},
}
