package doctor

import "fmt"

// checkSections is anon.strategy on Windows, where shm's objects are
// paging-file sections: it says what decides an object's lifetime there.
func checkSections(r *runner) Finding {
	f := Finding{
		Status: OK,
		Summary: "objects are paging-file sections: anonymous ones under random names, named ones in the session's Local\\ " +
			"namespace (or Global\\)",
		Meaning: "A Windows section lives while any handle or view of it is open, in any process, named or not; " +
			"no cleaner deletes one, and its name goes with its last handle (shm.Unlink cannot remove it earlier). " +
			"A section's size is fixed when it is made. shm ls cannot list sections (they live among every named " +
			"object of the session). Mutex and Semaphore in a mapping sleep on named kernel semaphores " +
			"(Local\\shm-wait-...) and tell a holder's death from its process handle, for processes of one session.",
		Remedy: "None needed.",
	}
	if r.env.AnonProbe == nil {
		return f
	}
	s, err := r.env.AnonProbe()
	if err != nil {
		f.Status = Fail
		f.Summary = fmt.Sprintf("creating an anonymous section failed: %v", err)
		f.Remedy = "Read the error: the system's commit limit (paging file size) may be exhausted."
		return f
	}
	f.Summary = fmt.Sprintf("anonymous objects: strategy %s; ", s) + f.Summary
	return f
}
