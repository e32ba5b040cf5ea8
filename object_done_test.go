//go:build unix

package shm

import (
	"sync"
	"testing"
	"time"
)

// TestDoneChanRacesClose: whoever asks for the done channel while another
// goroutine closes the object gets one that is, or will be, closed; after
// Close, doneChan gives a closed channel.
func TestDoneChanRacesClose(t *testing.T) {
	for round := range 2000 {
		o, err := CreateAnon(4096)
		if err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			<-start
			if err := o.Close(); err != nil {
				t.Errorf("round %d: Close: %v", round, err)
			}
		})
		for range 2 {
			wg.Go(func() {
				<-start
				<-o.doneChan()
			})
		}
		finished := make(chan struct{})
		go func() { wg.Wait(); close(finished) }()
		close(start)
		select {
		case <-finished:
		case <-time.After(time.Minute):
			t.Fatalf("round %d: a waiter on doneChan was never woken by Close", round)
		}
		if !o.h.closed() {
			t.Fatalf("round %d: handle not marked closed after Close", round)
		}
		select {
		case <-o.doneChan():
		default:
			t.Fatalf("round %d: doneChan after Close is open", round)
		}
	}
}

// TestDoneChanSeesMark: doneChan decides by the handle's closed mark, which
// Close sets before it wakes anyone; a channel asked for between the two
// must come back closed, or nothing would ever close it.
func TestDoneChanSeesMark(t *testing.T) {
	o, err := CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := o.h.close(); err != nil { // the first half of Close
		t.Fatal(err)
	}
	select {
	case <-o.doneChan():
	default:
		t.Fatal("doneChan after the handle was marked closed gave an open channel")
	}
}
