package osrev

import "testing"

func TestNetBSD(t *testing.T) {
	for _, c := range []struct {
		rev          uint32
		version      string
		futex, memfd bool
	}{
		{800000000, "8.0", false, false},
		{903000000, "9.3", false, false},
		// -current after __futex was added (April 2020), before 10.0:
		// not trusted, so polling.
		{999005900, "9.99.59", false, false},
		{1000000000, "10.0", true, false},
		{1001000000, "10.1", true, false},
		// -current with memfd_create (after July 2023), before 11.0.
		{1099000600, "10.99.6", true, false},
		{1100000000, "11.0", true, true},
		{1199000100, "11.99.1", true, true},
	} {
		f := NetBSD(c.rev)
		if f.Futex != c.futex || f.MemfdCreate != c.memfd {
			t.Errorf("NetBSD(%d) = %+v, want Futex %v, MemfdCreate %v", c.rev, f, c.futex, c.memfd)
		}
		if v := NetBSDVersion(c.rev); v != c.version {
			t.Errorf("NetBSDVersion(%d) = %q, want %q", c.rev, v, c.version)
		}
	}
}
