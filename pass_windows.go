package shm

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/windows"
)

// Pass arranges for cmd's process to inherit o under name. On Windows it
// marks the object's section handle inheritable, adds it to
// cmd.SysProcAttr.AdditionalInheritedHandles, and sets SHM_FD_<name> in
// cmd.Env to the handle's value, which is the same in the child; in the
// child, [Inherited] finds it. A child in another language reads the
// variable as a decimal HANDLE value and calls MapViewOfFile on it.
//
// Go's os/exec passes the child only the handles listed (it uses
// PROC_THREAD_ATTRIBUTE_HANDLE_LIST), so the handle stays out of other
// children Go starts; a process started another way, with
// bInheritHandles set and no handle list, would inherit it too. The
// object must stay open until cmd.Start returns.
func Pass(cmd *exec.Cmd, name string, o *Object) error {
	key, err := passKey(cmd, name, o)
	if err != nil {
		return err
	}
	var hv windows.Handle
	err = o.control("pass", func(h windows.Handle) error {
		hv = h
		return windows.SetHandleInformation(h, windows.HANDLE_FLAG_INHERIT, windows.HANDLE_FLAG_INHERIT)
	})
	if err != nil {
		return fmt.Errorf("shm: Pass: %w", o.wrap("SetHandleInformation", err))
	}
	// As on Unix: inherited SHM_FD_ variables name this process's handles,
	// not the child's, and none may name the value o's handle has.
	env := cmd.Env
	if env == nil {
		env = withoutPassed(os.Environ(), func(string) bool { return true })
	}
	val := strconv.FormatUint(uint64(hv), 10)
	env = withoutPassed(env, func(v string) bool { return v == val })
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.AdditionalInheritedHandles = append(cmd.SysProcAttr.AdditionalInheritedHandles, syscall.Handle(hv))
	cmd.Env = append(withoutEnv(env, key), key+"="+val)
	return nil
}

// inherited remembers the handles Inherited adopted, so that a second
// call for the same one fails instead of making two owners.
var inherited struct {
	sync.Mutex
	taken map[windows.Handle]string
}

// Inherited returns the object the parent passed under name with [Pass],
// adopting the handle named by SHM_FD_<name> (made non-inheritable) and
// removing the variable from the environment, so that this process's own
// children do not see a handle they did not inherit.
func Inherited(name string) (*Object, error) {
	key, err := envName(name)
	if err != nil {
		return nil, err
	}
	val, ok := os.LookupEnv(key)
	if !ok {
		return nil, fmt.Errorf("shm: Inherited(%q): %s is not set: the parent did not pass an object under that name: %w", name, key, os.ErrNotExist)
	}
	v, err := strconv.ParseUint(val, 10, strconv.IntSize)
	if err != nil || v == 0 || windows.Handle(v) == windows.InvalidHandle {
		return nil, fmt.Errorf("shm: Inherited(%q): %s=%q is not a handle value", name, key, val)
	}
	h := windows.Handle(v)
	inherited.Lock()
	defer inherited.Unlock()
	if prev, ok := inherited.taken[h]; ok {
		return nil, fmt.Errorf("shm: Inherited(%q): handle %d was already adopted as %q", name, h, prev)
	}
	o, err := adoptRaw(h, "shm:"+name)
	if err != nil {
		return nil, fmt.Errorf("shm: Inherited(%q): handle %d: %w", name, h, err)
	}
	if inherited.taken == nil {
		inherited.taken = make(map[windows.Handle]string)
	}
	inherited.taken[h] = name
	os.Unsetenv(key)
	return o, nil
}
