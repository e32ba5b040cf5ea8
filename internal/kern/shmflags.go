package kern

// FreeBSD values from sys/sys/mman.h and sys/sys/fcntl.h. They are defined
// on every operating system so that shared code and tests can name them;
// they are meaningful only to the FreeBSD kernel.

// Flags for the shmflags argument of [ShmOpen2] (SHM_* in sys/sys/mman.h).
const (
	// ShmLargePage backs the object with large pages; a kernel without
	// them answers ENOTTY.
	ShmLargePage = 0x4
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

// OpenShmflags are the shmflags [ShmOpen] passes to shm_open2, one after
// the other, until one is accepted. FreeBSD's kern_shm_open2
// (sys/kern/uipc_shm.c) ORs F_SEAL_SEAL into the seals of an existing
// object unless SHM_ALLOW_SEALING is passed, so a plain libc shm_open of
// another program's object makes it unsealable for good; and it refuses
// an existing object with EINVAL when shmflags is not 0 and differs from
// the flags the object was created with. So every flag set with
// SHM_ALLOW_SEALING is tried first; EINVAL from all of them means the
// object was created without SHM_ALLOW_SEALING, which gave it F_SEAL_SEAL
// already, and then 0 changes nothing. A new object (O_CREAT) gets the
// first: it accepts seals.
var OpenShmflags = []int{
	ShmAllowSealing,
	ShmAllowSealing | ShmGrowOnWrite, // what FreeBSD's memfd_create passes
	ShmAllowSealing | ShmLargePage,
	ShmAllowSealing | ShmGrowOnWrite | ShmLargePage,
	0,
}
