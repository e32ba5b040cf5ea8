package shm

// darwin's POSIX shm objects report only permission bits in st_mode, no
// file type.
var memoryObject = memoryObjectRule{types: []uint32{0}, note: ", not a POSIX shm object"}
