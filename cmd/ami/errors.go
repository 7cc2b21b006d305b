package main

import (
	"errors"
	"fmt"
)

// Exit statuses.
const (
	exitOK      = 0 // success, graceful shutdown included
	exitFailure = 1 // runtime failure
	exitUsage   = 2 // usage or configuration error
)

// exitError carries the exit status of an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as a usage or configuration error (exit 2).
func usageError(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitUsage, err: err}
}

// usagef returns a usage error (exit 2).
func usagef(format string, args ...any) error {
	return usageError(fmt.Errorf("ami: "+format, args...))
}

// failure marks err as a runtime failure (exit 1).
func failure(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: exitFailure, err: err}
}

// failf returns a runtime failure (exit 1).
func failf(format string, args ...any) error {
	return failure(fmt.Errorf("ami: "+format, args...))
}

// exitCode returns the exit status of an error returned by the command tree.
// Errors not marked by a command come from cobra itself (unknown command or
// flag, wrong number of arguments): usage errors.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}
