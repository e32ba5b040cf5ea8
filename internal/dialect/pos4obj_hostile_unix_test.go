//go:build unix

package dialect

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestHashDirNotFollowed: anyone can compute where a long name's hash
// directory goes (the md5 of the name) and plant a symbolic link there to
// a directory of their choice. Create, Open and Unlink refuse it, and
// nothing is made in that directory.
func TestHashDirNotFollowed(t *testing.T) {
	for _, level := range []string{"hash", "type"} {
		t.Run(level, func(t *testing.T) {
			d := rootedDialect(t, "solaris").LockRetry(3, 0)
			name := "/" + strings.Repeat("S", 252)
			p, err := d.Path(name)
			if err != nil {
				t.Fatal(err)
			}
			at := filepath.Dir(filepath.Dir(p)) // <dir>/.<md5>
			if level == "type" {
				if err := os.Mkdir(at, 0o777); err != nil {
					t.Fatal(err)
				}
				at = filepath.Dir(p) // <dir>/.<md5>/.SHMD
			}
			elsewhere := t.TempDir()
			if err := os.Symlink(elsewhere, at); err != nil {
				t.Fatal(err)
			}
			if f, err := d.Create(name, 64, 0o600, nil); err == nil {
				f.Close()
				t.Errorf("Create through a planted link at %s succeeded", at)
			}
			if f, err := d.Open(name, os.O_RDWR|os.O_CREATE, 0o600, OpenOptions{}); err == nil {
				f.Close()
				t.Errorf("Open(O_CREAT) through a planted link at %s succeeded", at)
			}
			if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
				t.Errorf("made in the directory the link leads to: %v", ents)
			}
		})
	}
}

// TestHashDirsOpenersRace: two processes' worth of openers of one long
// name: one's unlock removes the hash directories of the lock file,
// empty for an instant, as the other makes its own lock file there. The
// object exists all along, and no Open may call it missing.
func TestHashDirsOpenersRace(t *testing.T) {
	d := rootedDialect(t, "solaris")
	name := "/" + strings.Repeat("r", 252)
	f, err := d.Create(name, 64, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	rounds := 3000
	if testing.Short() {
		rounds = 500
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				g, err := d.Open(name, os.O_RDONLY, 0, OpenOptions{})
				if err != nil {
					errs <- err
					return
				}
				g.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Open of an existing long name: %v (ErrNotExist: %v)", err, errors.Is(err, fs.ErrNotExist))
	}
}
