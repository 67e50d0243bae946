// Package awserr defines the error value every Allot service returns to callers: an AWS error
// code and a message. The wire protocols decide how it is written (JSON __type or Query XML).
package awserr

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Error is an AWS API error: Code is the name clients dispatch on (for example
// "ValidationException" or "NoSuchEntity"), Message is shown to the user.
type Error struct {
	Code    string
	Message string
	// Fields holds extra members written beside the message, such as RedirectException's
	// "Location" or FailedDependencyException's "ErrorCode". Nil for most errors.
	Fields map[string]string
	// Err is an optional underlying cause; it is never shown to the caller.
	Err error
}

// MaxMessage is the longest message New and Wrap make, in bytes: a message quoting a
// caller's oversized value is cut there rather than sent back (and audited) whole.
const MaxMessage = 1024

// New returns an *Error with a formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: message(format, args)}
}

// Wrap returns an *Error that keeps err as its hidden cause.
func Wrap(err error, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: message(format, args), Err: err}
}

// message formats a message and cuts it to MaxMessage bytes at a character boundary, ending
// it with "…" when cut.
func message(format string, args []any) string {
	m := fmt.Sprintf(format, args...)
	if len(m) <= MaxMessage {
		return m
	}
	const ellipsis = "…"
	cut := MaxMessage - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(m[cut]) {
		cut--
	}
	return m[:cut] + ellipsis
}

// Error returns "Code: Message".
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the hidden cause.
func (e *Error) Unwrap() error { return e.Err }

// As reports whether err is or wraps an *Error and returns it.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// Code returns the AWS error code of err, or "" when err carries none.
func Code(err error) string {
	if e, ok := As(err); ok {
		return e.Code
	}
	return ""
}
