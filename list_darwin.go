package shm

import (
	"errors"
	"fmt"
)

func list() (*Listing, error) {
	return nil, fmt.Errorf("shm: list: darwin keeps shared-memory objects in the kernel and offers no way to list them: %w", errors.ErrUnsupported)
}
