package client

import "time"

// Clock tells the time and waits. Leases and verifiers use the system clock unless a Clock
// is configured; a test gives one it advances by hand, so extensions, expiry and grace can
// be tested without waiting for them.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// systemClock is the Clock of the time package.
type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func clockOr(c Clock) Clock {
	if c == nil {
		return systemClock{}
	}
	return c
}
