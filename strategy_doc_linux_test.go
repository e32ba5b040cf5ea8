package shm_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/shmkit/shm"
)

func init() {
	registerHelper("print-strategy", func([]string) int {
		o, err := shm.CreateAnon(4096)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer o.Close()
		fmt.Print(o.Strategy())
		return 0
	})
}

// docOf returns the doc comment of the method or function name in file.
func docOf(t *testing.T, file, name string) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == name && fd.Doc != nil {
			return fd.Doc.Text()
		}
	}
	t.Fatalf("no documented %s in %s", name, file)
	return ""
}

// TestStrategyDocNamesRoutes: the Strategy doc names every strategy the
// code returns (each Linux route forced in a child process, and FreeBSD's
// constants read from their source), and no name the code never returns
// (issue 9, item 9).
func TestStrategyDocNamesRoutes(t *testing.T) {
	doc := strings.Join(strings.Fields(docOf(t, "object.go", "Strategy")), " ")
	var got []string
	for _, route := range []string{"", "memfd", "tmpfile", "random", "openbsd", "netbsd", "dragonfly", "solaris"} {
		cmd := helperCommand(t, "print-strategy")
		cmd.Env = append(cmd.Env, anonRouteEnv(route))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v: %s", anonRouteEnv(route), err, out)
		}
		got = append(got, string(out))
	}
	// FreeBSD's routes, from the constants the code returns.
	f, err := parser.ParseFile(token.NewFileSet(), "internal/kern/shm_freebsd.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && strings.HasPrefix(vs.Names[0].Name, "Strategy") {
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
				s, _ := strconv.Unquote(lit.Value)
				got = append(got, s)
			}
		}
		return true
	})
	got = append(got, "random-darwin") // anon_darwin.go: fileObject(f, "random-"+d.OS)
	for _, s := range got {
		if !strings.Contains(doc, strconv.Quote(s)) {
			t.Errorf("Strategy doc does not name %q: %s", s, doc)
		}
	}
	for _, stale := range []string{`"shm_anon"`, `"mkstemp-openbsd"`} {
		if strings.Contains(doc, stale) {
			t.Errorf("Strategy doc names %s, which no code returns", stale)
		}
	}
}
