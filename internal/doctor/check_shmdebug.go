package doctor

import "fmt"

// checkShmdebug reports the SHMDEBUG settings in force: a forced route is
// not an error, but whoever reads the report should know of it, and of a
// setting that was ignored.
func checkShmdebug(r *runner) Finding {
	const meaning = "SHMDEBUG forces the route of anonymous objects (anon=memfd|tmpfile|random), " +
		"polling waits (futex=poll), the liveness lock of mutex owners (owner=ofd|fcntl|flock) " +
		"or atomic stores in the rings' gates (fence=locked), " +
		"for hosts whose kernel misbehaves; every process sharing a mutex should run with the same owner setting."
	switch {
	case !Supported(r.env.GOOS):
		return Finding{
			Status:  Skip,
			Summary: fmt.Sprintf("not checked: %s has no POSIX shared memory", r.env.GOOS),
			Meaning: meaning,
			Remedy:  "None: run on a Unix host.",
		}
	case r.env.DebugErr != nil:
		return Finding{
			Status:  Warn,
			Summary: fmt.Sprintf("SHMDEBUG=%q: %v", r.env.Debug, r.env.DebugErr),
			Meaning: meaning + " Settings it does not know are ignored.",
			Remedy:  "Correct or remove the ignored settings of SHMDEBUG.",
		}
	case r.env.Debug == "":
		return Finding{Status: OK, Summary: "SHMDEBUG is not set: nothing is forced", Meaning: meaning}
	}
	return Finding{Status: OK, Summary: fmt.Sprintf("SHMDEBUG=%q is in force", r.env.Debug), Meaning: meaning}
}
