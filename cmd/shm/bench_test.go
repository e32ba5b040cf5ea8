package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCPUModel(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9654\nprocessor\t: 1\nmodel name\t: AMD EPYC 9654\n", "AMD EPYC 9654"},
		{"processor\t: 0\nhart\t\t: 1\nisa\t\t: rv64imafdc\nmmu\t\t: sv39\nuarch\t\t: sifive,u74-mc\n", "sifive,u74-mc"},
		{"system type\t\t: x\ncpu model\t\t: MIPS 24Kc V7.4\n", "MIPS 24Kc V7.4"},
		{"model name\t:\nuarch\t: u74\n", "u74"}, // an empty model name is no model
		{"processor : 0\nBogoMIPS : 50.00\n", ""},
		{"", ""},
	} {
		if got := cpuModel(c.in); got != c.want {
			t.Errorf("cpuModel(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestIdleInfo(t *testing.T) {
	for _, c := range []struct{ driver, poll, want string }{
		{"haltpoll", "0", "cpuidle haltpoll, guest_halt_poll_ns 0: an idle vCPU halts at once, so waking a sleeping process goes through the hypervisor"},
		{"haltpoll", "200000", "cpuidle haltpoll, guest_halt_poll_ns 200000: an idle vCPU polls that long before it halts"},
		{"haltpoll", "", "cpuidle haltpoll"},
		{"intel_idle", "", "cpuidle intel_idle"},
		{"acpi_idle", "0", "cpuidle acpi_idle"},
		{"", "0", ""},
	} {
		if got := idleInfo(c.driver, c.poll); got != c.want {
			t.Errorf("idleInfo(%q, %q) = %q; want %q", c.driver, c.poll, got, c.want)
		}
	}
}

func FuzzCPUModel(f *testing.F) {
	f.Add("model name\t: AMD EPYC\n")
	f.Add("uarch : sifive,u74-mc")
	f.Add("model name:\n:\n::\ncpu model: x")
	f.Fuzz(func(t *testing.T, s string) {
		got := cpuModel(s)
		if got != strings.TrimSpace(got) || strings.ContainsAny(got, "\n") {
			t.Fatalf("cpuModel(%q) = %q: not one trimmed line", s, got)
		}
		if got != "" && !strings.Contains(s, got) {
			t.Fatalf("cpuModel(%q) = %q: not from the input", s, got)
		}
	})
}

// fake is a contender whose operations take per each, by the clock it
// reports, and that counts its calls.
func fake(per time.Duration, calls *int) contender {
	return contender{n0: 1, run: func(n int) (time.Duration, error) {
		*calls++
		return time.Duration(n) * per, nil
	}}
}

func TestCalibrate(t *testing.T) {
	for _, per := range []time.Duration{1, 7, 1000, time.Millisecond} {
		var calls int
		n, err := calibrate(10*time.Millisecond, fake(per, &calls))
		if err != nil {
			t.Fatal(err)
		}
		want := max(1, int(10*time.Millisecond/per))
		if n < want*9/10 || n > want*11/10 {
			t.Errorf("per %v: n = %d; want about %d", per, n, want)
		}
		if calls > 8 {
			t.Errorf("per %v: %d calls to calibrate", per, calls)
		}
	}
	// A clock that never moves still ends, at the largest n.
	var calls int
	n, err := calibrate(time.Second, fake(0, &calls))
	if err != nil || n != 1<<30 {
		t.Errorf("a zero clock: n = %d, %v; want %d", n, err, 1<<30)
	}
	boom := errors.New("boom")
	if _, err := calibrate(time.Second, contender{run: func(int) (time.Duration, error) { return 0, boom }}); err != boom {
		t.Errorf("an error from run: %v", err)
	}
}

func TestInterleave(t *testing.T) {
	b := &bencher{ctx: context.Background(), d: 50 * time.Millisecond}
	var order []int
	mk := func(id int, per time.Duration) contender {
		return contender{n0: 1, run: func(n int) (time.Duration, error) {
			order = append(order, id)
			return time.Duration(n) * per, nil
		}}
	}
	per, err := b.interleave(mk(0, 10), mk(1, 300))
	if err != nil {
		t.Fatal(err)
	}
	if per[0] != 10 || per[1] != 300 {
		t.Errorf("ns per op %v; want [10 300]", per)
	}
	// After calibration, the slices alternate.
	tail := order[len(order)-2*nSlices:]
	for i, id := range tail {
		if id != i%2 {
			t.Fatalf("slices ran in the order %v; want alternating", tail)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b.ctx = ctx
	if _, err := b.interleave(mk(0, 10)); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled run: %v", err)
	}
}

func TestMeasuredAndPrint(t *testing.T) {
	r := measured("x", 150.04, "p", 100)
	if *r.NsPerOp != 150 || *r.PeerNsPerOp != 100 || *r.Ratio != 1.5004 {
		t.Errorf("measured: %v %v %v", *r.NsPerOp, *r.PeerNsPerOp, *r.Ratio)
	}
	none := measured("y", 3, "q", 0)
	if none.PeerNsPerOp != nil || none.Ratio != nil {
		t.Errorf("no peer figure, yet %v %v", none.PeerNsPerOp, none.Ratio)
	}
	none.Note = "why"
	var buf bytes.Buffer
	printRows(&buf, []benchRow{r, none})
	want := "BENCHMARK  NS/OP  PEER  PEER NS/OP  RATIO\n" +
		"x          150.0  p     100.0       1.500x\n" +
		"y          3.0    q     -           -  (why)\n"
	if buf.String() != want {
		t.Errorf("printRows:\n%s\nwant:\n%s", buf.String(), want)
	}
}
