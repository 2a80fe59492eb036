//go:build !unix

package main

import "errors"

// homeLock is the LOCK of a home; locking needs flock(2), so only unix
// systems run a node.
type homeLock struct{}

// errNoLock says why a node home cannot be locked on this system.
var errNoLock = errors.New("ipdb-node: locking a home needs flock(2); run ipdb-node on Linux, BSD or macOS")

// lockHome refuses: see errNoLock.
func lockHome(string) (*homeLock, error) { return nil, errNoLock }

// release does nothing.
func (l *homeLock) release() error { return nil }
