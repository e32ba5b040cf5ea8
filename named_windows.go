package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/windows"
)

// Named objects on Windows are named sections. A name "/x" is the section
// "Local\x", in the namespace of this logon session; "Local\x" and
// "Global\x" are taken as they are ("Global\" needs the
// SeCreateGlobalPrivilege to create, which services and administrators
// have). A C program meets the same object with
// OpenFileMappingW(..., L"Local\\x").
//
// A section lives while any handle or view of it is open anywhere; its
// name goes with it. There is no way to remove the name of a section that
// is still open (see [Unlink]).

// namedRef remembers a named object's section name.
type namedRef struct{ path string }

// maxSectionName is the longest section name shm accepts, prefix
// included: MAX_PATH, the limit CreateFileMapping documents.
const maxSectionName = 260

// sectionName returns the Windows name of the section for name.
func sectionName(op, name string) (string, error) {
	bad := func(why string, err error) (string, error) {
		return "", &fs.PathError{Op: op, Path: printableName(name), Err: fmt.Errorf("%s: %w", why, err)}
	}
	var prefix, rest string
	switch {
	case strings.HasPrefix(name, `Local\`), strings.HasPrefix(name, `Global\`):
		i := strings.IndexByte(name, '\\')
		prefix, rest = name[:i+1], name[i+1:]
	case strings.HasPrefix(name, "/"):
		prefix, rest = `Local\`, name[1:]
	default:
		return bad(`a name on windows starts with "/" (the session's Local\ namespace), "Local\" or "Global\"`, fs.ErrInvalid)
	}
	switch {
	case rest == "":
		return bad("empty name", fs.ErrInvalid)
	case rest == "." || rest == "..":
		return bad(`"." and ".." are not names`, fs.ErrInvalid)
	case strings.ContainsAny(rest, "/\\\x00"):
		return bad(`a name holds no '/', '\' or NUL after its prefix`, fs.ErrInvalid)
	case !utf8.ValidString(rest):
		return bad("a name must be valid UTF-8 on windows", fs.ErrInvalid)
	case len(prefix)+len(rest) > maxSectionName:
		return bad(fmt.Sprintf("section name longer than %d bytes", maxSectionName), windows.ERROR_FILENAME_EXCED_RANGE)
	}
	return prefix + rest, nil
}

func validName(name string) error {
	_, err := sectionName("CreateFileMapping", name)
	return err
}

func openNamed(name string, c openConfig) (*Object, error) {
	full, err := sectionName("OpenFileMapping", name)
	if err != nil {
		return nil, err
	}
	access := uint32(sectionQuery | sectionMapRead)
	if !c.readOnly {
		access |= sectionMapWrite
	}
	h, err := openFileMapping(access, windows.StringToUTF16Ptr(full))
	if err != nil {
		return nil, &fs.PathError{Op: "OpenFileMapping", Path: printableName(name), Err: err}
	}
	o := newRawObject(h, full, "named-windows")
	o.name, o.readOnly, o.named = name, c.readOnly, &namedRef{path: full}
	return o, nil
}

func createNamed(name string, size int64, _ fs.FileMode) (*Object, error) {
	full, err := sectionName("CreateFileMapping", name)
	if err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, &fs.PathError{Op: "CreateFileMapping", Path: printableName(name), Err: errEmptySection}
	}
	h, err := createSection(size, windows.StringToUTF16Ptr(full))
	if err != nil {
		return nil, &fs.PathError{Op: "CreateFileMapping", Path: printableName(name), Err: errors.Unwrap(err)}
	}
	o := newRawObject(h, full, "named-windows")
	o.name, o.named = name, &namedRef{path: full}
	return o, nil
}

// unlinkNamed cannot remove the name: Windows has no call for it. It
// reports fs.ErrNotExist when no section has the name, and nil when one
// does; the name goes when the last handle and view of the section close.
func unlinkNamed(name string) error {
	full, err := sectionName("unlink", name)
	if err != nil {
		return err
	}
	h, err := openFileMapping(sectionQuery, windows.StringToUTF16Ptr(full))
	if err != nil {
		return &fs.PathError{Op: "unlink", Path: printableName(name), Err: err}
	}
	windows.CloseHandle(h)
	return nil
}

// Path returns the Windows name of a named object's section, such as
// "Local\x" for "/x". It fails for anonymous objects.
func (o *Object) Path() (string, error) {
	if o.named == nil {
		return "", &fs.PathError{Op: "path", Path: o.describe(), Err: errors.New("anonymous objects have no path")}
	}
	return o.named.path, nil
}

// NamePath returns the Windows name of the section for name: "Local\x"
// for "/x".
func NamePath(name string) (string, error) { return sectionName("CreateFileMapping", name) }
