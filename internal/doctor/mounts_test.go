package doctor

import "testing"

// TestMountinfoUnicodeBlanks: only spaces and tabs separate fields; a path
// holding a Unicode blank (the kernel escapes only space, tab, newline and
// backslash) stays one field.
func TestMountinfoUnicodeBlanks(t *testing.T) {
	m, err := ParseMountinfoLine("36 35 0:5 /a\u00a0b /mnt/x\u0085y rw,nosuid - tmpfs tmpfs rw,size=65536k")
	if err != nil {
		t.Fatal(err)
	}
	if m.Root != "/a\u00a0b" || m.MountPoint != "/mnt/x\u0085y" || m.Options != "rw,nosuid" {
		t.Errorf("Root %q, MountPoint %q, Options %q", m.Root, m.MountPoint, m.Options)
	}
	e, ok, err := ParseFstabLine("tmpfs /mnt/a\u00a0b tmpfs size=1g 0 0")
	if err != nil || !ok || e.File != "/mnt/a\u00a0b" {
		t.Errorf("fstab: %+v, %v, %v", e, ok, err)
	}
}
