package shm

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestStatHost stats a real object and checks that Stat changes no time.
func TestStatHost(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a Windows section has no owner, mode or times to stat; TestWindowsNamed checks what Stat reports there")
	}
	var b [6]byte
	rand.Read(b[:])
	name := "/shm-listtest-" + hex.EncodeToString(b[:])
	o, err := Create(name, 8192, 0o640)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("named objects are not supported here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	defer Unlink(name)
	past := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	if p, err := o.Path(); err == nil && runtime.GOOS != "darwin" && runtime.GOOS != "freebsd" {
		if err := os.Chtimes(p, past, past); err != nil {
			t.Fatal(err)
		}
	}
	info, err := Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != name || info.Size != 8192 || info.Mode != 0o640 || info.UID != os.Geteuid() {
		t.Errorf("Stat = %+v; want name %s, size 8192, mode 0640, uid %d", info, name, os.Geteuid())
	}
	if runtime.GOOS != "darwin" && runtime.GOOS != "freebsd" {
		again, err := Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Atime.Equal(past) || !again.Mtime.Equal(past) {
			t.Errorf("after Stat: atime %v mtime %v; want both %v (Stat must not touch)", again.Atime, again.Mtime, past)
		}
	}
	if runtime.GOOS == "darwin" {
		return // no listing
	}
	l, err := List()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, obj := range l.Objects {
		found = found || obj.Name == name
	}
	if !found {
		t.Errorf("List does not include %s", name)
	}
}
