package main

import (
	"errors"
	"strings"
	"testing"
)

// TestCreateWindows: shm create refuses on windows, saying why, instead of
// making a section that vanishes when the command exits.
func TestCreateWindows(t *testing.T) {
	_, _, err := runIn("create", "--size", "4096", "/shmtest-create-windows")
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "vanish") {
		t.Fatalf("shm create on windows: %v; want ErrUnsupported saying the section would vanish", err)
	}
}
