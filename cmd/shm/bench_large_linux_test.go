package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestBenchLarge runs the large-object rows at 8 MiB: every variant
// either is measured against its peer or says why it was not.
func TestBenchLarge(t *testing.T) {
	b := &bencher{ctx: context.Background(), d: time.Millisecond}
	defer b.close()
	rows, err := b.large(8<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		t.Logf("%+v", r)
		seen[strings.TrimPrefix(r.Name, "large-8MiB ")] = true
		if r.NsPerOp == nil && r.Note == "" {
			t.Errorf("%s: neither measured nor explained", r.Name)
		}
		if r.NsPerOp != nil && (*r.NsPerOp <= 0 || r.Ratio == nil) {
			t.Errorf("%s: figure %v against %q, ratio %v", r.Name, *r.NsPerOp, r.Peer, r.Ratio)
		}
	}
	for _, v := range []string{"plain", "Populate", "HugePages (THP)", "HugePages+Populate (THP)", "HugePageSize (hugetlb)", "C memfd+mmap+touch"} {
		if !seen[v] {
			t.Errorf("no row for %s", v)
		}
	}
	if rows, err := b.large(0, 1); err != nil || len(rows) != 0 {
		t.Errorf("size 0: %v, %v", rows, err)
	}
}
