package kern

// FreeBSD values from sys/sys/mman.h and sys/sys/fcntl.h. They are defined
// on every operating system so that shared code and tests can name them;
// they are meaningful only to the FreeBSD kernel.

// Flags for the shmflags argument of [ShmOpen2] (SHM_* in sys/sys/mman.h).
const (
	// ShmAllowSealing permits F_ADD_SEALS on the object. Without it a new
	// object starts with F_SEAL_SEAL set.
	ShmAllowSealing = 0x1
	// ShmGrowOnWrite lets write(2) past the end grow the object, as
	// memfd_create does.
	ShmGrowOnWrite = 0x2
)

// Flags for [ShmRename] (SHM_RENAME_* in sys/sys/mman.h).
const (
	// RenameNoReplace makes ShmRename fail with EEXIST instead of
	// replacing an existing destination.
	RenameNoReplace = 1 << 0
	// RenameExchange atomically swaps source and destination.
	RenameExchange = 1 << 1
)

// fcntl(2) commands for file seals on FreeBSD (sys/sys/fcntl.h). They
// differ from Linux's F_ADD_SEALS (1033) and F_GET_SEALS (1034).
const (
	// FAddSeals is F_ADD_SEALS: fcntl(fd, FAddSeals, seals).
	FAddSeals = 19
	// FGetSeals is F_GET_SEALS: fcntl(fd, FGetSeals, 0) returns the seals.
	FGetSeals = 20
)

// Seal bits for [FAddSeals] and [FGetSeals] (F_SEAL_* in sys/sys/fcntl.h).
// They have the same values as Linux's; FreeBSD has no F_SEAL_FUTURE_WRITE.
const (
	// SealSeal forbids adding further seals.
	SealSeal = 0x0001
	// SealShrink forbids shrinking the object.
	SealShrink = 0x0002
	// SealGrow forbids growing the object.
	SealGrow = 0x0004
	// SealWrite forbids writes and new writable shared mappings.
	SealWrite = 0x0008
)
