package kern

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// kinfoFile mirrors FreeBSD's struct kinfo_file (sys/sys/user.h) field by
// field, with the kf_file member of kf_un standing for the union; fields the
// parser does not read are blank, named in comments. It checks the
// hand-computed offsets in shmlist.go.
type kinfoFile struct {
	structsize int32      // kf_structsize
	typ        int32      // kf_type
	_          int32      // kf_fd
	_          int32      // kf_ref_count
	_          int32      // kf_flags
	_          int32      // kf_pad0
	_          int64      // kf_offset
	file       kfFile     // kf_un.kf_file
	_          uint16     // kf_status
	_          uint16     // kf_pad1
	_          int32      // _kf_ispare0
	_          [2]uint64  // kf_cap_rights: uint64_t cr_rights[CAP_RIGHTS_VERSION + 2]
	_          uint64     // _kf_cap_spare
	path       [1024]byte // kf_path[PATH_MAX]
}

type kfFile struct {
	_    int32      // kf_file_type
	_    [3]int32   // kf_spareint
	_    [30]uint64 // kf_spareint64
	_    uint64     // kf_file_fsid
	_    uint64     // kf_file_rdev
	_    uint64     // kf_file_fileid
	size uint64     // kf_file_size
	_    uint32     // kf_file_fsid_freebsd11
	_    uint32     // kf_file_rdev_freebsd11
	mode uint16     // kf_file_mode
	_    uint16     // kf_file_pad0
	_    uint32     // kf_file_pad1
}

// kfSock is the kf_sock member of kf_un, one of the largest.
type kfSock struct {
	_ [4]int32  // kf_sock_sendq, kf_sock_domain0, kf_sock_type0, kf_sock_protocol0
	_ [128]byte // kf_sa_local (struct sockaddr_storage)
	_ [128]byte // kf_sa_peer
	_ [3]uint64 // kf_sock_pcb, kf_sock_inpcb, kf_sock_unpconn
	_ [2]uint16 // kf_sock_snd_sb_state, kf_sock_rcv_sb_state
	_ uint32    // kf_sock_recvq
}

func TestKinfoFileLayout(t *testing.T) {
	var k kinfoFile
	checks := []struct {
		name      string
		got, want uintptr
	}{
		{"kf_structsize", unsafe.Offsetof(k.structsize), kfStructSizeOff},
		{"kf_type", unsafe.Offsetof(k.typ), kfTypeOff},
		{"kf_file_size", unsafe.Offsetof(k.file) + unsafe.Offsetof(k.file.size), kfFileSizeOff},
		{"kf_file_mode", unsafe.Offsetof(k.file) + unsafe.Offsetof(k.file.mode), kfFileModeOff},
		{"kf_path", unsafe.Offsetof(k.path), kfPathOff},
		{"sizeof(kinfo_file)", unsafe.Sizeof(k), kinfoFileSize},
		{"sizeof(kf_sock)", unsafe.Sizeof(kfSock{}), unsafe.Sizeof(k.file)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

// appendRecord appends a kinfo_file record packed the way the kernel's
// pack_kinfo does. Fields the parser must ignore are filled with junk, as
// the kernel does not clear the record it reuses; so is the padding after
// the path's NUL.
func appendRecord(buf []byte, typ int32, path string, mode uint16, size uint64) []byte {
	rec := bytes.Repeat([]byte{0xa5}, kinfoFileSize)
	n := (kfPathOff + len(path) + 1 + 7) &^ 7
	binary.NativeEndian.PutUint32(rec[kfStructSizeOff:], uint32(n))
	binary.NativeEndian.PutUint32(rec[kfTypeOff:], uint32(typ))
	binary.NativeEndian.PutUint64(rec[kfFileSizeOff:], size)
	binary.NativeEndian.PutUint16(rec[kfFileModeOff:], mode)
	copy(rec[kfPathOff:], path)
	rec[kfPathOff+len(path)] = 0
	return append(buf, rec[:n]...)
}

func encodeEntries(entries []Entry) []byte {
	var buf []byte
	for _, e := range entries {
		buf = appendRecord(buf, kfTypeShm, e.Path, e.Mode, uint64(e.Size))
	}
	return buf
}

func TestParseList(t *testing.T) {
	want := []Entry{
		{Path: "/a", Mode: 0o100600, Size: 4096},
		{Path: "/0123456789abcd", Mode: 0o100644, Size: 0}, // 368+15+1 = 384: no padding
		{Path: "/" + strings.Repeat("x", 1022), Mode: 0o100400, Size: 1 << 40},
		{Path: "/sub/dir/name", Mode: 0o100000, Size: 12345},
	}
	buf := encodeEntries(want)
	got, err := ParseList(buf)
	if err != nil {
		t.Fatalf("ParseList: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseList = %+v, want %+v", got, want)
	}
	if p := got[0].Perm(); p != 0o600 {
		t.Errorf("Perm = %v, want 0600", p)
	}

	// Zero padding after the records ends the list.
	got, err = ParseList(append(buf, make([]byte, 2000)...))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("with trailing zeros: ParseList = %+v, %v", got, err)
	}

	for _, empty := range [][]byte{nil, {}, make([]byte, 3), make([]byte, kinfoFileSize)} {
		got, err := ParseList(empty)
		if err != nil || len(got) != 0 {
			t.Errorf("ParseList(%d zero bytes) = %+v, %v; want no entries", len(empty), got, err)
		}
	}
}

func TestParseListMalformed(t *testing.T) {
	good := appendRecord(nil, kfTypeShm, "/ok", 0o100600, 1)
	setSize := func(b []byte, n int32) []byte {
		b = bytes.Clone(b)
		binary.NativeEndian.PutUint32(b, uint32(n))
		return b
	}
	unterminated := bytes.Clone(good)
	for i := kfPathOff; i < len(unterminated); i++ {
		unterminated[i] = 'x'
	}
	huge := bytes.Clone(good)
	binary.NativeEndian.PutUint64(huge[kfFileSizeOff:], 1<<63)
	cases := map[string][]byte{
		"short tail":         append(bytes.Clone(good), 1, 2),
		"size below header":  setSize(good, kfPathOff),
		"negative size":      setSize(good, -8),
		"size above maximum": setSize(append(bytes.Clone(good), make([]byte, kinfoFileSize)...), kinfoFileSize+8),
		"size not aligned":   setSize(good, int32(len(good)-1)),
		"truncated record":   good[:len(good)-8],
		"wrong kf_type":      appendRecord(nil, 1, "/vnode", 0o100600, 1),
		"unterminated path":  unterminated,
		"size over int64":    huge,
		"garbage after":      append(bytes.Clone(good), bytes.Repeat([]byte{0xff}, 16)...),
	}
	for name, buf := range cases {
		got, err := ParseList(buf)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseList = %+v, %v; want an error wrapping ErrMalformed", name, got, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	one := appendRecord(nil, kfTypeShm, "/seed", 0o100600, 8192)
	f.Add([]byte{})
	f.Add(one)
	f.Add(appendRecord(bytes.Clone(one), kfTypeShm, "/second/seed", 0o100644, 0))
	f.Add(append(bytes.Clone(one), make([]byte, 64)...))
	f.Add(one[:len(one)-1])
	f.Add(appendRecord(nil, 2, "/socket", 0, 0))
	f.Fuzz(func(t *testing.T, buf []byte) {
		entries, err := ParseList(buf)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		for _, e := range entries {
			if strings.IndexByte(e.Path, 0) >= 0 || len(e.Path) >= kinfoFileSize-kfPathOff {
				t.Fatalf("bad path %q", e.Path)
			}
			if e.Size < 0 {
				t.Fatalf("negative size %d", e.Size)
			}
		}
		// What parses must survive a round trip through the kernel's format.
		again, err := ParseList(encodeEntries(entries))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if len(again) != len(entries) || (len(entries) > 0 && !reflect.DeepEqual(again, entries)) {
			t.Fatalf("round trip: %+v, want %+v", again, entries)
		}
	})
}
