//go:build unix

package dialect

import (
	"testing"

	"golang.org/x/sys/unix"
)

func BenchmarkPath(b *testing.B) {
	for _, goos := range fileOS {
		d := mustForOS(b, goos).Rooted("/objdir")
		b.Run(goos, func(b *testing.B) {
			for b.Loop() {
				if _, err := d.Path("/some-object.name"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCreateUnlink(b *testing.B) {
	for _, goos := range fileOS {
		d := mustForOS(b, goos).Rooted(b.TempDir())
		if goos == "netbsd" {
			// The statfs stays; only its answer is faked.
			if err := unix.Chmod(d.Dir, 0o1777); err != nil {
				b.Fatal(err)
			}
			d.fsType = func(dir string) (string, error) {
				if _, err := hostFSType(dir); err != nil {
					return "", err
				}
				return "tmpfs", nil
			}
		}
		b.Run(goos, func(b *testing.B) {
			for b.Loop() {
				f, err := d.Create("/bench", 4096, 0o600, nil)
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
				if err := d.Unlink("/bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCreateAnon(b *testing.B) {
	d := mustForOS(b, "linux").Rooted(b.TempDir())
	for b.Loop() {
		f, err := d.CreateAnon(4096)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
