package shm_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/shmdebug"
)

// The cross-process ring tests pass an object to children with shm.Pass:
// a ring of ringProcN bytes at offset 0, then a stop word.
const (
	ringProcMax = 200
	ringProcN   = 4096 + 16384
	ringProcObj = ringProcN + 4096
)

func init() {
	registerHelper("ring-send", ringSendChild)
	registerHelper("ring-recv", ringRecvChild)
}

// ringChild opens the passed object and its ring.
func ringChild() (*shm.Object, *shm.Mapping, *shm.Ring, error) {
	o, m, rs, err := childRings("ring", ringProcN, 1)
	if err != nil {
		return nil, nil, nil, err
	}
	return o, m, rs[0], nil
}

// childRings opens the object passed as name, maps it and attaches count
// rings of n bytes each, one after the other from offset 0; on an error
// it closes what it opened.
func childRings(name string, n, count int) (*shm.Object, *shm.Mapping, []*shm.Ring, error) {
	o, err := shm.Inherited(name)
	if err != nil {
		return nil, nil, nil, err
	}
	m, err := o.Map()
	if err != nil {
		o.Close()
		return nil, nil, nil, err
	}
	rs := make([]*shm.Ring, count)
	for i := range rs {
		if rs[i], err = m.Ring(i*n, n); err != nil {
			m.Close()
			o.Close()
			return nil, nil, nil, err
		}
	}
	return o, m, rs, nil
}

func stopWord(m *shm.Mapping) *uint32 { return (*uint32)(unsafe.Pointer(&m.Bytes()[ringProcN])) }

// ringSendChild sends messages as sender id, by mode (then, optionally,
// "exclusive": it registers with OpenSendExclusive):
//
//	count N   send N messages, CloseSend, exit
//	steady    send until the stop word is set, CloseSend, print the count
//	hang K    send K messages, Reserve, print "r", wait to be killed
//	forever   print "s" after the first message, send until killed
//	intent N  after a line on stdin, start sending N bytes and stop with
//	          the intent published and the tail not moved: print "i",
//	          wait to be killed
//	claim N   after a line on stdin, claim room for N bytes and write no
//	          header: print "c", wait to be killed
//	retire N  send N bytes into a ring whose room needs the receiver's
//	          consumed record: stop holding the retire word, print "t",
//	          wait to be killed
func ringSendChild(args []string) int {
	if len(args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: id mode arg")
		return 2
	}
	id, _ := strconv.Atoi(args[0])
	arg, _ := strconv.Atoi(args[2])
	o, m, r, err := ringChild()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer o.Close()
	defer m.Close()
	defer r.Close()
	// Registered before the parent goes on, so that the receiver sees no
	// end between senders that start at different times. A fourth
	// argument of options: "exclusive" registers as the ring's only
	// sender, "lease" sends through a RingSender.
	var opts string
	if len(args) > 3 {
		opts = args[3]
	}
	open := r.OpenSend
	if strings.Contains(opts, "exclusive") {
		open = r.OpenSendExclusive
	}
	if err := open(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	var tx *shm.RingSender
	if strings.Contains(opts, "lease") {
		if tx, err = r.Sender(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer tx.Close()
	}
	fmt.Println("ready")
	var buf []byte
	send := func(i int) error {
		buf = seqMessage(buf, uint32(id), uint32(i), ringProcMax)
		if tx != nil {
			return tx.Send(ctx, buf)
		}
		if i%4 == 3 {
			b, err := r.Reserve(ctx, len(buf))
			if err != nil {
				return err
			}
			copy(b, buf)
			return r.Commit(len(buf))
		}
		return r.Send(ctx, buf)
	}
	switch args[1] {
	case "count":
		for i := range arg {
			if err := send(i); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		if err := r.CloseSend(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	case "steady":
		i := 0
		for ; atomic.LoadUint32(stopWord(m)) == 0; i++ {
			if err := send(i); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		if err := r.CloseSend(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(i)
	case "hang":
		for i := range arg {
			if err := send(i); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		if tx != nil {
			tx.Close() // the handle's Reserve waits for it
		}
		if _, err := r.Reserve(ctx, 100); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("r")
		waitForKill()
	case "forever":
		for i := 0; ; i++ {
			if err := send(i); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			if i == 0 {
				fmt.Println("s")
			}
		}
	case "intent":
		bufio.NewReader(os.Stdin).ReadString('\n')
		shm.SetRingClaimHook(func() {
			fmt.Println("i")
			waitForKill()
		})
		err := r.Send(ctx, make([]byte, arg))
		fmt.Fprintln(os.Stderr, "the send went on past its claim hook:", err)
		return 1
	case "claim":
		bufio.NewReader(os.Stdin).ReadString('\n')
		if err := shm.RingClaimOnly(r, arg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("c")
		waitForKill()
	case "retire":
		shm.SetRingRetireHook(func() {
			fmt.Println("t")
			waitForKill()
		})
		err := r.Send(ctx, make([]byte, arg))
		fmt.Fprintln(os.Stderr, "the send did not stop in a retire:", err)
		return 1
	default:
		return 2
	}
	return 0
}

// ringRecvChild receives, by mode:
//
//	peek K    receive K messages, Peek the next, print its index, wait to be killed
//	receive K receive K messages, print the last one's index, wait to be killed
//	attach    attach as the receiver, print "a", wait to be killed
func ringRecvChild(args []string) int {
	o, m, r, err := ringChild()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer o.Close()
	defer m.Close()
	defer r.Close()
	ctx := context.Background()
	switch args[0] {
	case "peek":
		k, _ := strconv.Atoi(args[1])
		for range k {
			if _, err := r.Receive(ctx, nil); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		msg, err := r.Peek(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		_, i, err := checkSeq(msg, ringProcMax)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(i)
	case "receive":
		k, _ := strconv.Atoi(args[1])
		var last uint32
		for range k {
			msg, err := r.Receive(ctx, nil)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			if _, last, err = checkSeq(msg, ringProcMax); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		fmt.Println(last)
	case "attach":
		if _, _, err := r.TryReceive(nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("a")
	default:
		return 2
	}
	waitForKill()
	return 0 // not reached: the test kills this process
}

// ringProc is a child process of a ring test, with its stdout as lines.
type ringProc struct {
	cmd   *exec.Cmd
	lines *bufio.Scanner
	in    io.WriteCloser // the child's stdin
}

func startRingChild(t *testing.T, o *shm.Object, helper string, args ...string) *ringProc {
	t.Helper()
	var (
		cmd *exec.Cmd
		out io.ReadCloser
		in  io.WriteCloser
	)
	for attempt := 1; ; attempt++ {
		cmd = helperCommand(t, helper, args...)
		if ringPolling {
			s, _ := shmdebug.Get()
			s.Futex = "poll"
			cmd.Env = append(cmd.Env, shmdebug.Var+"="+s.String())
		}
		cmd.Stderr = os.Stderr
		var err error
		if out, err = cmd.StdoutPipe(); err != nil {
			t.Fatal(err)
		}
		if in, err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := shm.Pass(cmd, "ring", o); err != nil {
			t.Fatal(err)
		}
		err = cmd.Start()
		if err == nil {
			break
		}
		if attempt < 3 && wineSpawnFlake(err) {
			t.Logf("start of child, attempt %d: %v (wine's CreateProcess; trying again)", attempt, err)
			continue
		}
		t.Fatal(err)
	}
	p := &ringProc{cmd: cmd, lines: bufio.NewScanner(out), in: in}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	if helper == "ring-send" {
		if l := p.line(t); l != "ready" {
			t.Fatalf("sender child said %q", l)
		}
	}
	return p
}

// wineSpawnFlake reports whether err is the ERROR_INTERNAL_ERROR (1359)
// that wine 8.0's CreateProcess returns now and then when a test starts
// and kills many processes in a row (once in TestRingSenderKills, in one
// of four runs; the next start succeeds).
func wineSpawnFlake(err error) bool {
	var errno syscall.Errno
	return runtime.GOOS == "windows" && strings.HasPrefix(os.Getenv("SHM_TEST_EMULATOR"), "wine") &&
		errors.As(err, &errno) && errno == 1359
}

// line returns the child's next line of output.
func (p *ringProc) line(t *testing.T) string {
	t.Helper()
	if !p.lines.Scan() {
		t.Fatalf("child %d ended without the expected output", p.cmd.Process.Pid)
	}
	return p.lines.Text()
}

func (p *ringProc) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

func (p *ringProc) wait(t *testing.T) {
	t.Helper()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
}

// newRingObject makes the object the children share, and the parent's
// ring in it.
func newRingObject(t *testing.T) (*shm.Object, *shm.Mapping, *shm.Ring) {
	t.Helper()
	o, err := shm.CreateAnon(ringProcObj)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	r, err := m.Ring(0, ringProcN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return o, m, r
}

// A receiver is a *shm.Ring or a *shm.RingReceiver.
type receiver interface {
	Receive(ctx context.Context, buf []byte) ([]byte, error)
}

// receiveAll receives until io.EOF, checking every message, and returns
// the number received from each sender; fail reports the first wrong one.
func receiveAll(ctx context.Context, r receiver) (map[uint32]uint32, error) {
	next := map[uint32]uint32{}
	var buf []byte
	for {
		msg, err := r.Receive(ctx, buf)
		if err == io.EOF {
			return next, nil
		}
		if err != nil {
			return next, err
		}
		s, i, err := checkSeq(msg, ringProcMax)
		if err != nil {
			return next, err
		}
		if i != next[s] {
			return next, fmt.Errorf("message %d of sender %d, expected %d", i, s, next[s])
		}
		next[s]++
		buf = msg
	}
}

// ringPolling makes the children of startRingChild poll (SHMDEBUG=futex=poll).
var ringPolling bool

// TestRingPolling runs process and goroutine tests with waits forced to
// poll, the route of the systems without a cross-process futex.
func TestRingPolling(t *testing.T) {
	restore := shm.ForceFutexPoll()
	defer restore()
	ringPolling = true
	defer func() { ringPolling = false }()
	t.Run("processes", TestRingProcesses)
	t.Run("goroutines", TestRingGoroutines)
	t.Run("cancel", TestRingCancelWakes)
	t.Run("peerdead", TestRingPeerDead)
}

// TestRingProcesses: four sender processes into one receiver; every
// message exactly once and in order per sender, then io.EOF.
func TestRingProcesses(t *testing.T) {
	o, _, rx := newRingObject(t)
	const each = 20000
	var kids []*ringProc
	for s := range 4 {
		kids = append(kids, startRingChild(t, o, "ring-send", strconv.Itoa(s), "count", strconv.Itoa(each)))
	}
	got, err := receiveAll(context.Background(), rx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kids {
		k.wait(t)
	}
	for s := range uint32(4) {
		if got[s] != each {
			t.Errorf("sender %d: %d messages, want %d", s, got[s], each)
		}
	}
}

// TestRingSenderKills: SIGKILL senders, most of them between Reserve and
// Commit, while three others keep sending: the receiver skips what the
// dead left, and every message of the survivors arrives exactly once and
// in order.
func TestRingSenderKills(t *testing.T) {
	kills := 200
	if testing.Short() {
		kills = 20
	} else if raceEnabled {
		kills = 50
	}
	o, m, rx := newRingObject(t)
	var steady []*ringProc
	for s := range 3 {
		steady = append(steady, startRingChild(t, o, "ring-send", strconv.Itoa(s), "steady", "0"))
	}
	type result struct {
		got map[uint32]uint32
		err error
	}
	res := make(chan result, 1)
	go func() {
		got, err := receiveAll(context.Background(), rx)
		res <- result{got, err}
	}()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	hung := 0
	for k := range kills {
		id := strconv.Itoa(100 + k)
		if k%4 != 3 {
			// Killed holding a reservation.
			v := startRingChild(t, o, "ring-send", id, "hang", strconv.Itoa(rng.IntN(5)))
			if l := v.line(t); l != "r" {
				t.Fatalf("victim said %q", l)
			}
			v.kill(t)
			hung++
		} else {
			// Killed at a random moment of sending.
			v := startRingChild(t, o, "ring-send", id, "forever", "0")
			if l := v.line(t); l != "s" {
				t.Fatalf("victim said %q", l)
			}
			time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
			v.kill(t)
		}
	}
	atomic.StoreUint32(stopWord(m), 1)
	sent := map[uint32]uint32{}
	for s, p := range steady {
		n, err := strconv.Atoi(p.line(t))
		if err != nil {
			t.Fatal(err)
		}
		sent[uint32(s)] = uint32(n)
		p.wait(t)
	}
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	for s := range uint32(3) {
		if r.got[s] != sent[s] {
			t.Errorf("steady sender %d: received %d of %d messages", s, r.got[s], sent[s])
		}
	}
	st, err := rx.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Lost < uint64(hung) {
		t.Errorf("%d records lost, want at least the %d reservations of killed senders", st.Lost, hung)
	}
	t.Logf("%d kills (%d holding a reservation); %d records lost; steady senders sent %v", kills, hung, st.Lost, sent)
}

// TestRingReceiverKilled: a receiver killed between Peek and Release, and
// one killed after a Receive whose record it had not yet retired; a new
// receiver gets every message not released or received, once, in order.
func TestRingReceiverKilled(t *testing.T) {
	for _, mode := range []string{"peek", "receive"} {
		t.Run(mode, func(t *testing.T) {
			o, _, tx := newRingObject(t)
			send := func(from, to uint32) {
				t.Helper()
				for i := from; i < to; i++ {
					if ok, err := tx.TrySend(seqMessage(nil, 7, i, ringProcMax)); !ok || err != nil {
						t.Fatal(ok, err)
					}
				}
			}
			// The receiving child's last message is the last in the ring,
			// so that it leaves its record consumed and not retired.
			sent := uint32(3)
			if mode == "peek" {
				sent = 4
			}
			send(0, sent)
			c := startRingChild(t, o, "ring-recv", mode, "3")
			next := uint32(3) // peek: the peeked message; receive: after the last received
			want := "3"
			if mode == "receive" {
				want = "2"
			}
			if l := c.line(t); l != want {
				t.Fatalf("the child said %s, want %s", l, want)
			}
			if mode == "receive" && !shm.RingPending(tx) {
				t.Fatal("the receiver retired its last message before its next call")
			}
			c.kill(t)
			send(sent, 10)
			// This handle sent; a new handle receives (the dead
			// receiver's slot is taken over).
			rx, err := tx.Stats()
			if err != nil || rx.Senders != 1 {
				t.Fatalf("stats: %+v, %v", rx, err)
			}
			if err := tx.CloseSend(); err != nil {
				t.Fatal(err)
			}
			got, err := receiveAllFrom(t, o, 7, next)
			if err != nil {
				t.Fatal(err)
			}
			if got != 10 {
				t.Fatalf("the new receiver got up to message %d, want 10", got)
			}
		})
	}
}

// receiveAllFrom attaches a new receiver handle and receives sender s's
// messages from index first until io.EOF; it returns the next index.
func receiveAllFrom(t *testing.T, o *shm.Object, s, first uint32) (uint32, error) {
	m, err := o.Map()
	if err != nil {
		return 0, err
	}
	defer m.Close()
	r, err := m.Ring(0, ringProcN)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	next := first
	for {
		msg, err := r.Receive(context.Background(), nil)
		if err == io.EOF {
			return next, nil
		}
		if err != nil {
			return next, err
		}
		gs, i, err := checkSeq(msg, ringProcMax)
		if err != nil {
			return next, err
		}
		if gs != s || i != next {
			return next, fmt.Errorf("message %d of sender %d, want %d of %d", i, gs, next, s)
		}
		next++
	}
}

// TestRingPeerDead: a sender waiting on a full ring whose receiver
// process died gets ErrPeerDead.
func TestRingPeerDead(t *testing.T) {
	o, _, tx := newRingObject(t)
	c := startRingChild(t, o, "ring-recv", "attach")
	if l := c.line(t); l != "a" {
		t.Fatalf("child said %q", l)
	}
	msg := make([]byte, ringProcMax)
	fillRing(t, tx, msg)
	c.kill(t)
	err := tx.Send(context.Background(), msg)
	if !errors.Is(err, shm.ErrPeerDead) {
		t.Fatalf("Send into a full ring after the receiver died: %v", err)
	}
	t.Log(err)
}

// waitForKill blocks a child until the test kills it. A bare select{}
// would not do: with no timer pending the runtime may report every
// goroutine asleep and exit the child itself (seen under qemu-user).
func waitForKill() {
	for {
		time.Sleep(time.Hour)
	}
}

// TestRingTwoDeadClaimants: two sender processes read the same tail and
// publish intents for it; one moves the tail (its claim has no header
// yet), the other stops before its compare-and-swap; both are killed. Two
// dead senders' intents then cover the head, with different lengths: the
// receiver must skip the claim that was made (the length that ends at the
// tail, or at the header of the next record), count one lost record, and
// go on. A wrong choice skips the shorter intent's length, finds a zero
// header again and counts two.
func TestRingTwoDeadClaimants(t *testing.T) {
	const claimed, failed = 100, 20 // payload bytes: records of 112 and 32 bytes
	for _, tc := range []struct {
		name       string
		failedSlot bool // the failed claimant attaches first: its intent is found first
		after      bool // a live sender commits a message after the claim
	}{
		{"failed-first/tail", true, false},
		{"failed-first/header", true, true},
		{"claimed-first/tail", false, false},
		{"claimed-first/header", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, _, rx := newRingObject(t)
			var a, b *ringProc // a claims, b fails
			if tc.failedSlot {
				b = startRingChild(t, o, "ring-send", "1", "intent", strconv.Itoa(failed))
				a = startRingChild(t, o, "ring-send", "2", "claim", strconv.Itoa(claimed))
			} else {
				a = startRingChild(t, o, "ring-send", "2", "claim", strconv.Itoa(claimed))
				b = startRingChild(t, o, "ring-send", "1", "intent", strconv.Itoa(failed))
			}
			// b publishes its intent at the tail and stops before moving
			// it; a then claims at the same tail.
			io.WriteString(b.in, "go\n")
			if l := b.line(t); l != "i" {
				t.Fatalf("the failing claimant said %q", l)
			}
			io.WriteString(a.in, "go\n")
			if l := a.line(t); l != "c" {
				t.Fatalf("the claimant said %q", l)
			}
			b.kill(t)
			a.kill(t)
			ctx := testCtx(t)
			if tc.after {
				if err := rx.Send(ctx, seqMessage(nil, 9, 0, ringProcMax)); err != nil {
					t.Fatal(err)
				}
				msg, err := rx.Receive(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if s, i, err := checkSeq(msg, ringProcMax); err != nil || s != 9 || i != 0 {
					t.Fatalf("received sender %d message %d (%v), want sender 9 message 0", s, i, err)
				}
			} else {
				// Every sender is dead: once the claim is skipped, the end.
				if msg, err := rx.Receive(ctx, nil); err != io.EOF {
					t.Fatalf("Receive: %q, %v; want io.EOF", msg, err)
				}
			}
			st, err := rx.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st.Lost != 1 || st.Used != 0 {
				t.Fatalf("Stats: %+v; want one record lost and the ring empty", st)
			}
		})
	}
}

// TestRingEOFRacesLastSender: the receiver finds the ring empty; before
// it looks at the senders, a sender process attaches, sends a message,
// closes and exits. The receiver must deliver the message before io.EOF
// (it called the stream ended with the message in the ring: 0083b1a).
func TestRingEOFRacesLastSender(t *testing.T) {
	o, m, rx := newRingObject(t)
	// A sender attached once and is gone: an empty ring with no sender is
	// the end.
	tx, err := m.Ring(0, ringProcN)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.OpenSend(); err != nil {
		t.Fatal(err)
	}
	tx.Close()
	ran := false
	defer shm.SetRingEOFHook(func() {
		if ran {
			return
		}
		ran = true
		p := startRingChild(t, o, "ring-send", "4", "count", "1")
		p.wait(t) // sent, closed its sending side and exited
	})()
	ctx := testCtx(t)
	msg, err := rx.Receive(ctx, nil)
	if !ran {
		t.Fatal("the receiver did not find the ring empty first")
	}
	if err != nil {
		t.Fatalf("Receive: %v; want the message sent before the sender closed", err)
	}
	if s, i, err := checkSeq(msg, ringProcMax); err != nil || s != 4 || i != 0 {
		t.Fatalf("received sender %d message %d (%v), want sender 4 message 0", s, i, err)
	}
	if msg, err := rx.Receive(ctx, nil); err != io.EOF {
		t.Fatalf("second Receive: %q, %v; want io.EOF", msg, err)
	}
}

// testCtx bounds a test so that no failure hangs it.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
