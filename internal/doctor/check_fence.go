package doctor

import (
	"errors"
	"fmt"

	"github.com/shmkit/shm/internal/fence"
)

// IDRingFence is the ID of the check of the rings' gates.
const IDRingFence = "ring.fence"

// fenceMeaning explains what the ring.fence check is about.
const fenceMeaning = "A ring handle lets one goroutine per direction at a time in through a gate. " +
	"On Linux on amd64 a gate lets go with a plain store, and a goroutine that waits for it runs " +
	"membarrier(2) (MEMBARRIER_CMD_PRIVATE_EXPEDITED) before it sleeps; the process registers for that " +
	"call once, at its first ring. Without it gates let go with an atomic store, a full barrier at " +
	"every message, which made small messages about a tenth slower (BENCHMARKS.md §7)."

// checkFence reports how the gates of this process's rings let go.
func checkFence(r *runner) Finding {
	if !Supported(r.env.GOOS) && r.env.GOOS != "windows" {
		return Finding{
			Status:  Skip,
			Summary: fmt.Sprintf("not checked: %s has no shared memory in shm", r.env.GOOS),
			Meaning: fenceMeaning,
			Remedy:  "None: run on a Unix host.",
		}
	}
	if r.env.FenceProbe == nil {
		return Finding{
			Status:  Skip,
			Summary: "not checked: no fence probe was wired into this build",
			Meaning: fenceMeaning,
			Remedy:  "Run shm doctor.",
		}
	}
	err := r.env.FenceProbe()
	switch {
	case err == nil:
		return Finding{
			Status:  OK,
			Summary: "gates let go with a plain store: membarrier(2) is registered",
			Meaning: fenceMeaning,
		}
	case errors.Is(err, errors.ErrUnsupported):
		return Finding{
			Status:  OK,
			Summary: fmt.Sprintf("gates let go with an atomic store: %v", err),
			Meaning: fenceMeaning + " Only Linux on amd64, outside race-detector builds, has the plain store; elsewhere the atomic store is the design.",
		}
	case errors.Is(err, fence.ErrLocked):
		return Finding{
			Status:  OK,
			Summary: fmt.Sprintf("gates let go with an atomic store: %v", err),
			Meaning: fenceMeaning,
			Remedy:  "Remove fence=locked from SHMDEBUG for the plain store.",
		}
	}
	return Finding{
		Status:  Warn,
		Summary: fmt.Sprintf("gates let go with an atomic store: %v", err),
		Meaning: fenceMeaning,
		Remedy: "Allow membarrier(2) in the seccomp profile of the process (Docker's default profile allows it); " +
			"the kernel needs 4.14 or later.",
	}
}
