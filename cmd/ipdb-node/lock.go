//go:build unix

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// maxLockBytes bounds what is read of a LOCK file: a pid and a newline.
const maxLockBytes = 32

// homeLock is the LOCK file of a home, held with flock(2) while a node runs
// (or init or export works on the home). The kernel releases the lock when
// the process dies, so a LOCK left by a killed process never blocks. The
// file is written in place, not renamed over: the lock belongs to the
// file's inode. It is never removed, so that two processes can never lock
// two different LOCK files of one home.
type homeLock struct {
	f *os.File
}

// lockHome takes the LOCK of the home dir (which must exist) and writes this
// process's pid into it. A LOCK held by another process (or another open of
// it in this process) gives a *homeInUseError.
func lockHome(dir string) (*homeLock, error) {
	path := dir + string(os.PathSeparator) + lockFile
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &homeInUseError{dir: dir, pid: readLockPID(f)}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	l := &homeLock{f: f}
	if err := l.writePID(os.Getpid()); err != nil {
		l.release()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return l, nil
}

// writePID replaces the file's content with pid and a newline.
func (l *homeLock) writePID(pid int) error {
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	if _, err := l.f.WriteAt([]byte(strconv.Itoa(pid)+"\n"), 0); err != nil {
		return err
	}
	return l.f.Sync()
}

// release empties the LOCK and unlocks it. It is safe to call on nil.
func (l *homeLock) release() error {
	if l == nil {
		return nil
	}
	truncErr := l.f.Truncate(0)
	unlockErr := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	return errors.Join(truncErr, unlockErr, l.f.Close())
}

// readLockPID returns the pid written in a LOCK file, or 0.
func readLockPID(f *os.File) int {
	b, err := io.ReadAll(io.LimitReader(io.NewSectionReader(f, 0, maxLockBytes), maxLockBytes))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
